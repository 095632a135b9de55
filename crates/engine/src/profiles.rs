//! The profiles shipped with rolecall, embedded in the binary.

/// (id, TOML text) of every shipped profile.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "contact-center-pro",
        include_str!("../../../profiles/contact-center-pro.toml"),
    ),
    (
        "phones-pro",
        include_str!("../../../profiles/phones-pro.toml"),
    ),
    (
        "zoom-contact-center",
        include_str!("../../../profiles/zoom-contact-center.toml"),
    ),
    (
        "goto-contact-center",
        include_str!("../../../profiles/goto-contact-center.toml"),
    ),
    (
        "horizon-contact",
        include_str!("../../../profiles/horizon-contact.toml"),
    ),
];

/// The text of a shipped profile.
pub fn shipped(id: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
}

//! How large a profile may be. Every walk over a profile's structures is iterative or
//! bounded by one of these limits, and every step of loading and compiling is near
//! linear in the profile's size, so no profile text can exhaust the stack, the memory
//! or the time of the process that loads it. The loader refuses a profile beyond a
//! limit with a positioned error naming the limit (docs/profile-format.md, "Limits").
//!
//! The constants are structural: code relies on them (the catalog is a nested tree no
//! deeper than [`MAX_PRIVILEGE_DEPTH`]; a role's bitset is at most [`MAX_CATALOG_BITS`]
//! bits). The fields of [`Limits`] are sizes a deployment may tune.

/// Deepest privilege tree: a privilege directly under a section is at depth 1.
pub const MAX_PRIVILEGE_DEPTH: usize = 64;
/// Most privileges in a catalog.
pub const MAX_PRIVILEGES: usize = 4_096;
/// Most levels of a `levels` privilege, and most choices of a `choice` privilege.
pub const MAX_OPTIONS: usize = 64;
/// Most bits of the catalog's layout: 1 per flag or number privilege, 1 per level of a
/// `levels` privilege, 1 plus 1 per choice of a `choice` privilege. A role's or user's
/// privilege set is this many bits (1 KiB).
pub const MAX_CATALOG_BITS: usize = 8_192;
/// Most role templates.
pub const MAX_ROLES: usize = 20_000;
/// Most sections.
pub const MAX_SECTIONS: usize = 1_024;
/// Most role types.
pub const MAX_ROLE_TYPES: usize = 256;
/// Most org unit kinds.
pub const MAX_ORG_KINDS: usize = 256;
/// Most settings.
pub const MAX_SETTINGS: usize = 1_024;
/// Most resource types (built-ins included).
pub const MAX_TYPES: usize = 256;
/// Most relations, and most attributes, of one resource type.
pub const MAX_TYPE_FIELDS: usize = 256;
/// Most values of an enum attribute (a string attribute with `values`).
pub const MAX_ENUM_VALUES: usize = 1_024;
/// Most relation or attribute names after `principal`, `resource` or `context` in one
/// path of an expression (each is a step at every check).
pub const MAX_PATH_STEPS: usize = 16;
/// Most entries of each list of rules: appointments, delegation ceilings, invariants,
/// separation-of-duty rules.
pub const MAX_RULES: usize = 1_024;
/// Most problems reported for one profile; the rest are counted.
pub const MAX_DIAGNOSTICS: usize = 100;

/// The sizes of a profile a deployment may tune ([`Limits::default`] suits a public
/// deployment). Expression nesting is capped separately, at 64 levels, by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of profile text.
    pub max_profile_bytes: usize,
    /// Most terms in one expression (an action's `requires`, an obligation's `when`, an
    /// appointment's `target`). Each `has(…)`, comparison, `in`, `shares(…)`,
    /// `setting(…)`, `true`/`false` and `not` is a term, and so is each chain of `and`
    /// or of `or`.
    pub max_expression_terms: usize,
    /// Most terms in all the profile's expressions together.
    pub max_profile_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_profile_bytes: 4 * 1024 * 1024,
            max_expression_terms: 1_000,
            max_profile_terms: 20_000,
        }
    }
}

impl Limits {
    /// No tunable limit (the structural constants still hold): for profiles already
    /// admitted, such as a stored tenant's.
    pub fn unbounded() -> Self {
        Self {
            max_profile_bytes: usize::MAX,
            max_expression_terms: usize::MAX,
            max_profile_terms: usize::MAX,
        }
    }
}

/// `4194304` as `4 MiB`, `1000` as `1,000`: a size for a message.
pub fn bytes_label(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    const KIB: usize = 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{} bytes", thousands(n))
    }
}

/// `20000` as `20,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bytes_label(4 * 1024 * 1024), "4 MiB");
        assert_eq!(bytes_label(16 * 1024), "16 KiB");
        assert_eq!(bytes_label(1000), "1,000 bytes");
    }
}

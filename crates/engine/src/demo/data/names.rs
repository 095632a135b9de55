//! The demo's names: the company, people's first and last names, regions, cities,
//! departments, centers, queues and teams, and the slug and FNV-1a helpers that turn
//! names into ids and profile ids into seeds.

pub(super) const COMPANY_ID: &str = "northwind";
pub(super) const COMPANY_NAME: &str = "Northwind Services";

pub(super) const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jamal",
    "Kara", "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Samir", "Tara", "Umar",
    "Valeria", "Wei", "Ximena", "Yusuf", "Zoe", "Aisha", "Ben", "Chloe", "Diego", "Emma", "Felix",
    "Gabriela", "Henry", "Ines", "Jonas", "Keiko", "Lucas", "Mei", "Nadia", "Oscar", "Priya",
    "Rafael", "Sofia", "Tomas", "Uma", "Victor", "Wanda", "Yara", "Zane", "Amara", "Bruno",
    "Carla", "Dmitri", "Esther", "Fatima", "Gustavo", "Hannah", "Ivan", "Julia", "Kofi", "Leila",
    "Marco", "Nina", "Omar", "Paula", "Ravi", "Sara", "Theo",
];

pub(super) const LAST_NAMES: &[&str] = &[
    "Nguyen",
    "Smith",
    "Garcia",
    "Johnson",
    "Kim",
    "Patel",
    "Brown",
    "Lopez",
    "Chen",
    "Williams",
    "Martinez",
    "Singh",
    "Davis",
    "Rodriguez",
    "Okafor",
    "Miller",
    "Hernandez",
    "Wilson",
    "Tanaka",
    "Anderson",
    "Silva",
    "Thomas",
    "Kowalski",
    "Moore",
    "Ivanova",
    "Jackson",
    "Rossi",
    "White",
    "Haddad",
    "Harris",
    "Muller",
    "Martin",
    "Costa",
    "Thompson",
    "Sato",
    "Young",
    "Dubois",
    "King",
    "Novak",
    "Wright",
    "Ali",
    "Scott",
    "Jensen",
    "Green",
    "Santos",
    "Baker",
    "Cohen",
    "Adams",
    "Mendoza",
    "Nelson",
    "Olsen",
    "Hill",
    "Ramirez",
    "Campbell",
    "Yilmaz",
    "Mitchell",
    "Fischer",
    "Roberts",
    "Park",
    "Carter",
    "Lindqvist",
    "Phillips",
    "Mensah",
    "Evans",
    "Torres",
    "Turner",
    "Nakamura",
    "Collins",
    "Reyes",
];

pub(super) const REGIONS: &[&str] = &[
    "West", "Central", "East", "North", "South", "Pacific", "Mountain", "Atlantic",
];

pub(super) const CITIES: &[&str] = &[
    "San Francisco",
    "Denver",
    "Chicago",
    "Austin",
    "Boston",
    "Atlanta",
    "Seattle",
    "Phoenix",
    "Toronto",
    "Dublin",
    "London",
    "Sydney",
    "Portland",
    "Miami",
    "Dallas",
    "Minneapolis",
    "Nashville",
    "Raleigh",
    "Salt Lake City",
    "Pittsburgh",
    "Vancouver",
    "Manchester",
    "Auckland",
    "Singapore",
];

pub(super) const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Customer Support",
    "Billing",
    "Technical Support",
    "Retention",
    "Scheduling",
    "Dispatch",
    "Collections",
];

pub(super) const CENTERS: &[&str] = &[
    "Service Center",
    "Sales Center",
    "Support Center",
    "Care Center",
];

pub(super) const QUEUE_NAMES: &[&str] = &[
    "Sales",
    "Support",
    "Billing",
    "Technical Support",
    "Retention",
    "Renewals",
    "Collections",
    "Escalations",
    "Onboarding",
    "Appointments",
    "Returns",
    "Claims",
    "Dispatch",
    "VIP Care",
    "Spanish Support",
    "After Hours",
    "Warranty",
    "Enterprise Accounts",
    "Outbound Campaigns",
    "Service Desk",
];

pub(super) const QUEUE_SUFFIXES: &[&str] = &[
    "Inbound",
    "Callbacks",
    "Priority",
    "Chat",
    "Email",
    "Overflow",
];

pub(super) const GROUP_NAMES: &[&str] = &[
    "Team Aurora",
    "Team Borealis",
    "Night Shift",
    "Weekend Crew",
    "Spanish Speakers",
    "New Hires",
    "Quality Champions",
    "Escalation Desk",
    "Trainers",
    "Billing Experts",
    "Retention Specialists",
    "Remote Workers",
];

/// FNV-1a, a stable hash to mix the profile id into the seed.
pub(super) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Lowercase letters and digits, other runs turned into one `-`.
pub(super) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "x".to_owned() } else { out }
}

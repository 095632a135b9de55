//! What a role definition or an assignment gives, for delegation ceilings: the role's
//! own grants and those of the roles it includes — never what its role type locks or
//! defaults (the type imposes them, the editor does not give them), never restrictions
//! (they narrow) — and the ceiling a profile declares for the write.

use super::Snapshot;
use super::bits::test_bit;
use super::build::{cap_mask, hold_subtrees_at_top};
use crate::profile::{Ceiling, Delegated, GrantValue};

/// Why a write exceeds its ceiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Excess {
    /// It would give this privilege or level (a label such as `Users: Modify`), which
    /// the ceiling does not hold.
    Gives(String),
    /// It would leave out this restriction, which binds the granter (lifting it is an
    /// escalation; only under the holdings ceiling).
    Lifts(String),
}

impl Snapshot {
    /// The bits role `role` gives: its own grants and locked entries and what its
    /// included roles give, closed under parent inclusion; without its role type's
    /// locked and default entries and without restrictions. `None` for an unknown role.
    pub fn role_given_set(&self, role: &str) -> Option<Vec<u64>> {
        let mut set = vec![0u64; self.layout.words];
        let mut stack = vec![*self.role_index.get(role)?];
        let mut seen: rustc_hash::FxHashSet<u32> = rustc_hash::FxHashSet::default();
        let p = &self.profile;
        while let Some(r) = stack.pop() {
            if !seen.insert(r) {
                continue;
            }
            let Some(rc) = self.roles.get(r as usize) else {
                continue;
            };
            let d = &rc.def;
            for (q, v) in d.grants.iter().chain(d.locked.iter()) {
                if *v != GrantValue::Off {
                    self.layout.grant(p, *q, v, &mut set);
                }
            }
            for inc in &d.includes {
                if let Some(&j) = self.role_index.get(inc) {
                    stack.push(j);
                }
            }
        }
        let mut numbers = Vec::new();
        hold_subtrees_at_top(p, &self.layout, &mut set, &mut numbers);
        for (w, r) in set.iter_mut().zip(&self.layout.restrictions) {
            *w &= !*r;
        }
        Some(set)
    }

    /// The id of role `role`'s type, if it has one.
    pub fn role_type_of(&self, role: &str) -> Option<&str> {
        let rc = self.roles.get(*self.role_index.get(role)? as usize)?;
        let t = rc.def.role_type?;
        self.profile.role_types.get(t).map(|t| t.id.as_str())
    }

    /// The ceiling the profile declares for `op` on role `role` (by the role's type).
    pub fn ceiling_of(&self, op: Delegated, role: &str) -> &Ceiling {
        let role_type = self
            .role_index
            .get(role)
            .and_then(|&r| self.roles.get(r as usize))
            .and_then(|rc| rc.def.role_type);
        self.profile.ceiling(op, role_type)
    }

    /// The bits a fixed ceiling holds for role `role`: the cap of its type, or what
    /// the named roles hold together. `None` for [`Ceiling::Holdings`] (the granter's
    /// holdings, which the caller knows) and for a type with no cap.
    pub fn ceiling_set(&self, ceiling: &Ceiling, role: &str) -> Option<Vec<u64>> {
        match ceiling {
            Ceiling::Holdings => None,
            Ceiling::TypeCap => {
                let rt = self
                    .role_index
                    .get(role)
                    .and_then(|&r| self.roles.get(r as usize))
                    .and_then(|rc| rc.def.role_type);
                cap_mask(&self.profile, &self.layout, rt)
            }
            Ceiling::Roles(ids) => {
                let mut set = vec![0u64; self.layout.words];
                for id in ids {
                    for (w, x) in set.iter_mut().zip(self.role_set(id).unwrap_or_default()) {
                        *w |= x;
                    }
                }
                Some(set)
            }
        }
    }

    /// Whether giving role `role` stays within `ceiling`: what the role gives must be
    /// in the ceiling's set (for [`Ceiling::Holdings`], `have`: what the granter holds
    /// where the write applies), and under holdings the role may not leave out a
    /// restriction that binds the granter.
    pub fn exceeds(&self, ceiling: &Ceiling, role: &str, have: &[u64]) -> Option<Excess> {
        let gives = self.role_given_set(role)?;
        let bound = match ceiling {
            Ceiling::Holdings => have.to_vec(),
            _ => self
                .ceiling_set(ceiling, role)
                .unwrap_or_else(|| have.to_vec()),
        };
        if let Some(label) = self.first_missing(&gives, &bound) {
            return Some(Excess::Gives(label));
        }
        if *ceiling == Ceiling::Holdings {
            let full = self.role_set(role).unwrap_or_default();
            let bits = self.layout.bits as u32;
            let lifted = (0..bits).find(|&b| {
                test_bit(&self.layout.restrictions, b) && test_bit(have, b) && !test_bit(&full, b)
            });
            if let Some(b) = lifted {
                return Some(Excess::Lifts(self.bit_label(b)));
            }
        }
        None
    }

    /// Whether removing an assignment of `role` lifts a restriction that binds the
    /// remover (`have`: what they hold there); only under the holdings ceiling.
    pub fn lifts_restriction(&self, ceiling: &Ceiling, role: &str, have: &[u64]) -> Option<Excess> {
        if *ceiling != Ceiling::Holdings {
            return None;
        }
        let full = self.role_set(role)?;
        let bits = self.layout.bits as u32;
        let b = (0..bits).find(|&b| {
            test_bit(&self.layout.restrictions, b) && test_bit(&full, b) && test_bit(have, b)
        })?;
        Some(Excess::Lifts(self.bit_label(b)))
    }
}

/// Three-valued truth for [`Snapshot::privileges_allow`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Snapshot {
    /// Whether privileges `have` leave action `action` possible: its requirement with
    /// every `has` read from `have` and every other condition unknown (Kleene logic) is
    /// not false. Used to keep what a scoped administrator gives within the places where
    /// they hold the governing privileges; an unknown action is `false`.
    pub fn privileges_allow(&self, action: &str, have: &[u64]) -> bool {
        let Some(program) = self
            .profile
            .action(action)
            .and_then(|a| self.programs.get(a))
        else {
            return false;
        };
        tri(program, have) != Tri::False
    }
}

fn tri(n: &super::Node, have: &[u64]) -> Tri {
    use super::Node;
    match n {
        Node::Const(true) => Tri::True,
        Node::Const(false) => Tri::False,
        Node::Has { bit, .. } => {
            if test_bit(have, *bit) {
                Tri::True
            } else {
                Tri::False
            }
        }
        Node::And(items) => {
            let mut out = Tri::True;
            for x in items.iter() {
                match tri(x, have) {
                    Tri::False => return Tri::False,
                    Tri::Unknown => out = Tri::Unknown,
                    Tri::True => {}
                }
            }
            out
        }
        Node::Or(items) => {
            let mut out = Tri::False;
            for x in items.iter() {
                match tri(x, have) {
                    Tri::True => return Tri::True,
                    Tri::Unknown => out = Tri::Unknown,
                    Tri::False => {}
                }
            }
            out
        }
        Node::Not(x) => match tri(x, have) {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        },
        Node::Setting(_) | Node::Compare { .. } | Node::In { .. } | Node::Shares(..) => {
            Tri::Unknown
        }
    }
}

//! Where each privilege's bits live in a role or user bitset.
//!
//! A flag has one bit; a levelled privilege one bit per level (bit `k` = "held at
//! level `k` or higher", so bit 0 = held at all); a choice one "held" bit plus one per
//! choice; a number one "held" bit.

use crate::expr::resolved::Need;
use crate::profile::{GrantValue, PrivId, PrivKind, Profile};

/// The bit layout of a profile's privileges.
#[derive(Debug, Clone)]
pub struct Layout {
    /// First bit of each privilege.
    pub(crate) start: Vec<u32>,
    /// Total bits.
    pub bits: usize,
    /// Words of 64 bits per set.
    pub words: usize,
    /// The bits of restriction privileges (see [`crate::profile::Privilege::restriction`]).
    pub(crate) restrictions: Vec<u64>,
}

impl Layout {
    pub(crate) fn new(p: &Profile) -> Self {
        let mut start = Vec::with_capacity(p.privileges.len());
        let mut next = 0u32;
        for x in &p.privileges {
            start.push(next);
            next += match &x.kind {
                PrivKind::Flag | PrivKind::Number { .. } => 1,
                PrivKind::Levels(l) => l.len().max(1) as u32,
                PrivKind::Choice { choices, .. } => 1 + choices.len() as u32,
            };
        }
        let bits = next as usize;
        let words = bits.div_ceil(64).max(1);
        let mut restrictions = vec![0u64; words];
        for (q, x) in p.privileges.iter().enumerate() {
            if x.restriction
                && let Some(&b) = start.get(q)
            {
                set_bit(&mut restrictions, b);
            }
        }
        Self {
            start,
            bits,
            words,
            restrictions,
        }
    }

    /// The bit that `has(p, need)` tests.
    pub(crate) fn bit(&self, p: PrivId, need: Need) -> Option<u32> {
        let s = *self.start.get(p)?;
        Some(match need {
            Need::Any => s,
            Need::Level(k) => s + k as u32,
            Need::Choice(c) => s + 1 + c as u32,
        })
    }

    /// Every bit of privilege `p`.
    pub(crate) fn range(&self, p: PrivId) -> std::ops::Range<u32> {
        let s = self.start.get(p).copied().unwrap_or(0);
        let e = self.start.get(p + 1).copied().unwrap_or(self.bits as u32);
        s..e
    }

    /// Sets the bits a grant of `p` holds (level order and choice implications).
    pub(crate) fn grant(&self, p: &Profile, q: PrivId, v: &GrantValue, set: &mut [u64]) {
        let Some(s) = self.start.get(q).copied() else {
            return;
        };
        let kind = p.privileges.get(q).map(|x| &x.kind);
        match (v, kind) {
            (GrantValue::Off, _) => {}
            (GrantValue::Level(k), _) => {
                for b in s..=s + *k as u32 {
                    set_bit(set, b);
                }
            }
            (GrantValue::Choices(cs), Some(PrivKind::Choice { implies, .. })) => {
                set_bit(set, s);
                for c in cs {
                    for i in implies.get(*c).into_iter().flatten() {
                        set_bit(set, s + 1 + *i as u32);
                    }
                }
            }
            _ => set_bit(set, s),
        }
    }

    /// What `set` holds of flag or `levels` privilege `q`: `On`, or its highest level
    /// held; `None` when not held (or another kind).
    pub(crate) fn held(&self, p: &Profile, q: PrivId, set: &[u64]) -> Option<GrantValue> {
        let r = self.range(q);
        match p.privileges.get(q).map(|x| &x.kind) {
            Some(PrivKind::Levels(_)) => r
                .clone()
                .rev()
                .find(|&b| test_bit(set, b))
                .map(|b| GrantValue::Level((b - r.start) as usize)),
            Some(PrivKind::Flag) if test_bit(set, r.start) => Some(GrantValue::On),
            _ => None,
        }
    }
}

/// Sets bit `b`.
#[inline]
pub(crate) fn set_bit(set: &mut [u64], b: u32) {
    if let Some(w) = set.get_mut((b / 64) as usize) {
        *w |= 1u64 << (b % 64);
    }
}

/// Tests bit `b`.
#[inline]
pub(crate) fn test_bit(set: &[u64], b: u32) -> bool {
    set.get((b / 64) as usize)
        .is_some_and(|w| w & (1u64 << (b % 64)) != 0)
}

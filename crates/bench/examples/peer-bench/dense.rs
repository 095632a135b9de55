//! The best hand-optimized baseline: dense integer ids, each user's tenant-wide
//! privileges precomputed into one bitset (one bit per privilege: "held at some
//! level"), scoped grants as (org pre-order range, role bitset) pairs, queue
//! memberships as a sorted slice per user, and conversation → (agent, org) arrays.
//! Written for exactly the three actions of the workload. Ids can be resolved once
//! ([`Dense::resolve`]) or per check through Fx-hashed maps ([`Dense::check`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rolecall_bench::workload::{ALL_QUEUES, Check, EDIT_ALL, EDIT_OWN, MONITOR};
use rolecall_core::Profile;
use rolecall_core::state::TenantState;

use crate::tenant::{self, Act};

/// FxHash-style hashing (multiply-rotate, as rustc-hash): fast for short string keys.
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the entropy in the high bits; hashbrown picks buckets
        // with the low ones (rustc-hash 2 rotates the same way).
        self.0.rotate_left(26)
    }
}

type FxMap<V> = HashMap<Box<str>, V, BuildHasherDefault<Fx>>;

const NONE: u32 = u32::MAX;

/// A check with every id resolved.
#[derive(Debug, Clone, Copy)]
pub enum Req {
    /// Does user hold privilege bit?
    Hold(u32, u32),
    /// May user monitor queue?
    Monitor(u32, u32),
    /// May user edit conversation?
    Edit(u32, u32),
}

#[derive(Clone, Copy)]
enum ActionC {
    Hold(u32),
    Monitor,
    Edit,
}

/// A scoped grant: org pre-order range and the role's closed set.
#[derive(Clone, Copy)]
struct Scoped {
    enter: u32,
    exit: u32,
    role: u32,
}

/// The dense engine.
pub struct Dense {
    words: usize,
    /// Per user, `words` words: every tenant-wide privilege.
    base: Vec<u64>,
    /// Per role, `words` words: its closed privileges.
    role_sets: Vec<u64>,
    scoped_off: Vec<u32>,
    scoped: Vec<Scoped>,
    queues_off: Vec<u32>,
    /// Per user, the queues it is a member of, sorted.
    queues: Vec<u32>,
    /// Per queue, its org's pre-order number.
    queue_org: Vec<u32>,
    conv_agent: Vec<u32>,
    conv_org: Vec<u32>,
    monitor: u32,
    all_queues: u32,
    edit_own: u32,
    edit_all: u32,
    users: FxMap<u32>,
    queue_ix: FxMap<u32>,
    conv_ix: FxMap<u32>,
    actions: FxMap<ActionC>,
}

fn set(v: &mut [u64], bit: usize) {
    if let Some(w) = v.get_mut(bit / 64) {
        *w |= 1u64 << (bit % 64);
    }
}

fn test(v: &[u64], bit: usize) -> bool {
    v.get(bit / 64)
        .is_some_and(|w| w & (1u64 << (bit % 64)) != 0)
}

impl Dense {
    /// Loads a tenant.
    pub fn build(profile: &Profile, s: &TenantState) -> Result<Self, String> {
        let infos = tenant::privileges(profile)?;
        let np = infos.len();
        let words = np.div_ceil(64).max(1);
        let bit_of =
            |id: &str| -> Result<u32, String> { Ok(tenant::priv_index(profile, id)? as u32) };
        // Roles: direct grants ("any" and "top" bits), then includes, then subtrees.
        let role_ix: HashMap<&str, usize> = s
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let nr = s.roles.len();
        let mut any = vec![0u64; nr * words];
        let mut top = vec![0u64; nr * words];
        for (i, r) in s.roles.iter().enumerate() {
            for (key, g) in &r.grants {
                let q = tenant::priv_index(profile, key)?;
                let info = infos.get(q).ok_or("bad privilege index")?;
                let h = tenant::held(info, g)?;
                if h != tenant::Held::Off {
                    set(any.get_mut(i * words..(i + 1) * words).ok_or("range")?, q);
                }
                if h.is_top(info) {
                    set(top.get_mut(i * words..(i + 1) * words).ok_or("range")?, q);
                }
            }
        }
        // Included roles, transitively (iterative DFS per role; cycles are cut).
        let mut closed_any = any.clone();
        let mut closed_top = top.clone();
        for (i, r) in s.roles.iter().enumerate() {
            let mut seen = vec![false; nr];
            let mut stack: Vec<usize> = Vec::new();
            for inc in &r.includes {
                stack.push(*role_ix.get(inc.as_str()).ok_or("unknown included role")?);
            }
            while let Some(j) = stack.pop() {
                if j == i || std::mem::replace(seen.get_mut(j).ok_or("role")?, true) {
                    continue;
                }
                for w in 0..words {
                    let (a, t) = (
                        any.get(j * words + w).copied().unwrap_or(0),
                        top.get(j * words + w).copied().unwrap_or(0),
                    );
                    if let Some(x) = closed_any.get_mut(i * words + w) {
                        *x |= a;
                    }
                    if let Some(x) = closed_top.get_mut(i * words + w) {
                        *x |= t;
                    }
                }
                if let Some(rj) = s.roles.get(j) {
                    for inc in &rj.includes {
                        stack.push(*role_ix.get(inc.as_str()).ok_or("unknown included role")?);
                    }
                }
            }
        }
        // A parent held at its top includes its subtree.
        for i in 0..nr {
            let range = i * words..(i + 1) * words;
            let t = closed_top.get(range.clone()).ok_or("range")?.to_vec();
            let a = closed_any.get_mut(range).ok_or("range")?;
            for (q, info) in infos.iter().enumerate() {
                if !test(&t, q) || info.children.is_empty() {
                    continue;
                }
                let mut stack = info.children.clone();
                while let Some(d) = stack.pop() {
                    set(a, d);
                    if let Some(di) = infos.get(d) {
                        stack.extend_from_slice(&di.children);
                    }
                }
            }
        }
        // Org units: pre-order numbering.
        let orgs: Vec<_> = tenant::of_type(s, "org_unit").collect();
        let org_ix: HashMap<&str, usize> = orgs
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.as_str(), i))
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); orgs.len()];
        let mut roots = Vec::new();
        for (i, o) in orgs.iter().enumerate() {
            match tenant::rel1(o, "parent").and_then(|p| org_ix.get(p)) {
                Some(&p) => children.get_mut(p).ok_or("org")?.push(i),
                None => roots.push(i),
            }
        }
        let (mut enter, mut exit) = (vec![NONE; orgs.len()], vec![NONE; orgs.len()]);
        let mut clock = 0u32;
        let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((o, done)) = stack.pop() {
            if done {
                *exit.get_mut(o).ok_or("org")? = clock;
                continue;
            }
            *enter.get_mut(o).ok_or("org")? = clock;
            clock += 1;
            stack.push((o, true));
            for &c in children.get(o).into_iter().flatten().rev() {
                stack.push((c, false));
            }
        }
        let pre = |id: Option<&str>| -> u32 {
            id.and_then(|o| org_ix.get(o))
                .and_then(|&i| enter.get(i).copied())
                .unwrap_or(NONE)
        };
        // Users.
        let users_list: Vec<_> = tenant::of_type(s, "user").collect();
        let nu = users_list.len();
        let mut users: FxMap<u32> = FxMap::default();
        for (i, u) in users_list.iter().enumerate() {
            users.insert(u.id.as_str().into(), i as u32);
        }
        let mut base = vec![0u64; nu * words];
        let mut scoped_per: Vec<Vec<Scoped>> = vec![Vec::new(); nu];
        for a in &s.assignments {
            let u = *users.get(a.principal.as_str()).ok_or("unknown user")? as usize;
            let r = *role_ix.get(a.role.as_str()).ok_or("unknown role")?;
            let rset = closed_any.get(r * words..(r + 1) * words).ok_or("range")?;
            match tenant::org_scope(a)? {
                None => {
                    let b = base.get_mut(u * words..(u + 1) * words).ok_or("range")?;
                    for (x, y) in b.iter_mut().zip(rset) {
                        *x |= *y;
                    }
                }
                Some(units) => {
                    for unit in units {
                        let i = *org_ix.get(unit.as_str()).ok_or("unknown org unit")?;
                        scoped_per.get_mut(u).ok_or("user")?.push(Scoped {
                            enter: enter.get(i).copied().unwrap_or(NONE),
                            exit: exit.get(i).copied().unwrap_or(0),
                            role: r as u32,
                        });
                    }
                }
            }
        }
        let mut scoped_off = Vec::with_capacity(nu + 1);
        let mut scoped = Vec::new();
        scoped_off.push(0);
        for v in scoped_per {
            scoped.extend(v);
            scoped_off.push(scoped.len() as u32);
        }
        // Queues.
        let mut queue_ix: FxMap<u32> = FxMap::default();
        let mut queue_org = Vec::new();
        let mut member_of: Vec<Vec<u32>> = vec![Vec::new(); nu];
        for (qi, q) in tenant::of_type(s, "queue").enumerate() {
            queue_ix.insert(q.id.as_str().into(), qi as u32);
            queue_org.push(pre(tenant::rel1(q, "org_unit")));
            for m in tenant::rel(q, "members") {
                let u = *users.get(m.as_str()).ok_or("unknown member")? as usize;
                member_of.get_mut(u).ok_or("user")?.push(qi as u32);
            }
        }
        let mut queues_off = Vec::with_capacity(nu + 1);
        let mut queues = Vec::new();
        queues_off.push(0);
        for mut v in member_of {
            v.sort_unstable();
            v.dedup();
            queues.extend(v);
            queues_off.push(queues.len() as u32);
        }
        // Conversations.
        let mut conv_ix: FxMap<u32> = FxMap::default();
        let mut conv_agent = Vec::new();
        let mut conv_org = Vec::new();
        for (ci, c) in tenant::of_type(s, "conversation").enumerate() {
            conv_ix.insert(c.id.as_str().into(), ci as u32);
            conv_agent.push(
                tenant::rel1(c, "agent")
                    .and_then(|a| users.get(a).copied())
                    .unwrap_or(NONE),
            );
            conv_org.push(
                tenant::rel1(c, "queue")
                    .and_then(|q| queue_ix.get(q))
                    .and_then(|&q| queue_org.get(q as usize).copied())
                    .unwrap_or(NONE),
            );
        }
        let mut actions: FxMap<ActionC> = FxMap::default();
        for a in &profile.actions {
            let c = match tenant::act(&a.id) {
                Ok(Act::Hold(p)) => ActionC::Hold(bit_of(p)?),
                Ok(Act::Monitor) => ActionC::Monitor,
                Ok(Act::Edit) => ActionC::Edit,
                Err(_) => continue,
            };
            actions.insert(a.id.as_str().into(), c);
        }
        Ok(Self {
            words,
            base,
            role_sets: closed_any,
            scoped_off,
            scoped,
            queues_off,
            queues,
            queue_org,
            conv_agent,
            conv_org,
            monitor: bit_of(MONITOR)?,
            all_queues: bit_of(ALL_QUEUES)?,
            edit_own: bit_of(EDIT_OWN)?,
            edit_all: bit_of(EDIT_ALL)?,
            users,
            queue_ix,
            conv_ix,
            actions,
        })
    }

    /// Heap bytes of the check tables (not the string indexes).
    pub fn table_bytes(&self) -> usize {
        (self.base.len() + self.role_sets.len()) * 8
            + self.scoped.len() * 12
            + (self.scoped_off.len() + self.queues_off.len() + self.queues.len()) * 4
            + (self.queue_org.len() + self.conv_agent.len() + self.conv_org.len()) * 4
    }

    /// Resolves a check's ids.
    pub fn resolve(&self, c: &Check) -> Result<Req, String> {
        let u = *self
            .users
            .get(c.principal.as_str())
            .ok_or_else(|| format!("unknown user `{}`", c.principal))?;
        let unknown = || format!("unknown resource `{}`", c.resource_id);
        Ok(
            match self
                .actions
                .get(c.action.as_str())
                .ok_or_else(|| format!("unknown action `{}`", c.action))?
            {
                ActionC::Hold(b) => Req::Hold(u, *b),
                ActionC::Monitor => Req::Monitor(
                    u,
                    *self
                        .queue_ix
                        .get(c.resource_id.as_str())
                        .ok_or_else(unknown)?,
                ),
                ActionC::Edit => Req::Edit(
                    u,
                    *self
                        .conv_ix
                        .get(c.resource_id.as_str())
                        .ok_or_else(unknown)?,
                ),
            },
        )
    }

    /// Decides a check by string ids.
    #[inline]
    pub fn check(&self, c: &Check) -> Result<bool, String> {
        Ok(self.decide(self.resolve(c)?))
    }

    /// Whether user `u` holds privilege `bit` for a resource whose org has pre-order
    /// number `org` (`NONE` for the tenant itself).
    #[inline]
    fn has(&self, u: u32, bit: u32, org: u32) -> bool {
        let w = self.words;
        let (u, b) = (u as usize, bit as usize);
        if self
            .base
            .get(u * w + b / 64)
            .is_some_and(|x| x & (1u64 << (b % 64)) != 0)
        {
            return true;
        }
        let (Some(&s), Some(&e)) = (self.scoped_off.get(u), self.scoped_off.get(u + 1)) else {
            return false;
        };
        self.scoped
            .get(s as usize..e as usize)
            .unwrap_or(&[])
            .iter()
            .any(|g| {
                g.enter <= org
                    && org < g.exit
                    && self
                        .role_sets
                        .get(g.role as usize * w + b / 64)
                        .is_some_and(|x| x & (1u64 << (b % 64)) != 0)
            })
    }

    /// Decides a resolved check.
    #[inline]
    pub fn decide(&self, r: Req) -> bool {
        match r {
            Req::Hold(u, b) => self.has(u, b, NONE),
            Req::Monitor(u, q) => {
                let org = self.queue_org.get(q as usize).copied().unwrap_or(NONE);
                self.has(u, self.monitor, org)
                    && (self.has(u, self.all_queues, org) || {
                        let (s, e) = (
                            self.queues_off.get(u as usize).copied().unwrap_or(0),
                            self.queues_off.get(u as usize + 1).copied().unwrap_or(0),
                        );
                        self.queues
                            .get(s as usize..e as usize)
                            .is_some_and(|v| v.contains(&q))
                    })
            }
            Req::Edit(u, c) => {
                let org = self.conv_org.get(c as usize).copied().unwrap_or(NONE);
                self.has(u, self.edit_all, org)
                    || (self.has(u, self.edit_own, org)
                        && self.conv_agent.get(c as usize) == Some(&u))
            }
        }
    }
}

//! The org tree: the company and, breadth first, units of every kind the profile lets
//! sit under it, named after regions, cities, departments and centers; and the
//! questions later steps ask of it (ancestry, top unit, nearest unit of a kind).

use super::Demo;
use super::names::{CENTERS, CITIES, COMPANY_ID, COMPANY_NAME, DEPARTMENTS, REGIONS, slug};

/// A bound on the org tree's size (profiles with many kinds).
const MAX_ORGS: usize = 120;
/// A bound on the org tree's depth.
const MAX_DEPTH: usize = 6;

/// How org units of a kind are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Region,
    Department,
    Center,
    Place,
}

#[derive(Debug, Clone)]
pub(super) struct Org {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) kind: Option<usize>,
    pub(super) parent: Option<usize>,
    pub(super) depth: usize,
    pub(super) city: Option<String>,
}

impl Demo<'_> {
    /// Kinds that may sit directly under `k` (itself excluded).
    fn child_kinds(&self, k: usize) -> Vec<usize> {
        self.p
            .org_kinds
            .iter()
            .enumerate()
            .filter(|(c, x)| *c != k && x.parents.contains(&k))
            .map(|(c, _)| c)
            .collect()
    }

    pub(super) fn style(&self, kind: Option<usize>) -> Style {
        let Some(k) = kind.and_then(|k| self.p.org_kinds.get(k)) else {
            return Style::Place;
        };
        let s = format!("{} {}", k.id, k.name).to_lowercase();
        if s.contains("region") || s.contains("area") || s.contains("division") {
            Style::Region
        } else if s.contains("department") || s.contains("dept") || s.contains("team") {
            Style::Department
        } else if s.contains("center") || s.contains("centre") {
            Style::Center
        } else {
            Style::Place
        }
    }

    fn org_id_taken(&self, id: &str) -> bool {
        id == COMPANY_ID || self.orgs.iter().any(|o| o.id == id)
    }

    fn unique_org_id(&self, base: String) -> String {
        if !self.org_id_taken(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|id| !self.org_id_taken(id))
            .unwrap_or(base)
    }

    /// Adds the `i`-th child of kind `kind` under `parent`.
    fn add_org(&mut self, parent: usize, kind: Option<usize>, i: usize, counters: &mut [usize; 2]) {
        let Some(par) = self.orgs.get(parent).cloned() else {
            return;
        };
        let style = self.style(kind);
        let (id, name, city) = match style {
            Style::Region => {
                let n = counters.first().copied().unwrap_or(0);
                if let Some(c) = counters.first_mut() {
                    *c += 1;
                }
                let r = REGIONS.get(n % REGIONS.len()).copied().unwrap_or("Region");
                (slug(r), format!("{r} Region"), None)
            }
            Style::Place => {
                let n = counters.get(1).copied().unwrap_or(0);
                if let Some(c) = counters.get_mut(1) {
                    *c += 1;
                }
                let c = CITIES.get(n % CITIES.len()).copied().unwrap_or("City");
                (slug(c), c.to_owned(), Some(c.to_owned()))
            }
            Style::Department => {
                let d = DEPARTMENTS
                    .get(i % DEPARTMENTS.len())
                    .copied()
                    .unwrap_or("Department");
                match &par.city {
                    Some(c) => (
                        format!("{}-{}", par.id, slug(d)),
                        format!("{c} {d}"),
                        par.city.clone(),
                    ),
                    None => (slug(d), d.to_owned(), None),
                }
            }
            Style::Center => {
                let c = CENTERS.get(i % CENTERS.len()).copied().unwrap_or("Center");
                let name = match &par.city {
                    Some(city) => format!("{city} {c}"),
                    None => c.to_owned(),
                };
                (format!("{}-cc{}", par.id, i + 1), name, par.city.clone())
            }
        };
        let id = self.unique_org_id(id);
        self.orgs.push(Org {
            id,
            name,
            kind,
            parent: Some(parent),
            depth: par.depth + 1,
            city,
        });
    }

    /// The company and, breadth first, units of every kind that may sit under it.
    pub(super) fn build_orgs(&mut self) {
        let kinds = &self.p.org_kinds;
        let root_kind = kinds
            .iter()
            .position(|k| k.parents.is_empty())
            .or(if kinds.is_empty() { None } else { Some(0) });
        self.orgs.push(Org {
            id: COMPANY_ID.to_owned(),
            name: COMPANY_NAME.to_owned(),
            kind: root_kind,
            parent: None,
            depth: 0,
            city: None,
        });
        let mut counters = [0usize; 2];
        if kinds.is_empty() {
            for i in 0..5 {
                self.add_org(0, None, i, &mut counters);
            }
            return;
        }
        let mut next = 0;
        while let Some(o) = self.orgs.get(next).cloned() {
            let at = next;
            next += 1;
            let Some(k) = o.kind else { continue };
            if o.depth >= MAX_DEPTH {
                continue;
            }
            let children = self.child_kinds(k);
            for &c in &children {
                // A kind that may also sit under a sibling kind (an office under a
                // region or directly under the company) appears here only once.
                let skippable = children
                    .iter()
                    .any(|&m| m != c && self.child_kinds(m).contains(&c));
                let leaf = self.child_kinds(c).is_empty();
                let n = match (skippable, o.depth, leaf) {
                    (true, _, _) => 1,
                    (false, 0, true) => 5,
                    (false, 0, false) => 3,
                    _ => 2,
                };
                for i in 0..n {
                    if self.orgs.len() >= MAX_ORGS {
                        return;
                    }
                    self.add_org(at, Some(c), i, &mut counters);
                }
            }
        }
    }

    pub(super) fn org(&self, o: usize) -> Option<&Org> {
        self.orgs.get(o)
    }

    pub(super) fn org_id(&self, o: usize) -> String {
        self.org(o).map(|x| x.id.clone()).unwrap_or_default()
    }

    pub(super) fn is_leaf(&self, o: usize) -> bool {
        !self.orgs.iter().any(|x| x.parent == Some(o))
    }

    /// `o` and its ancestors, nearest first.
    fn ancestry(&self, o: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = Some(o);
        while let Some(c) = cur {
            if out.contains(&c) || out.len() > self.orgs.len() {
                break;
            }
            out.push(c);
            cur = self.org(c).and_then(|x| x.parent);
        }
        out
    }

    pub(super) fn within(&self, o: usize, ancestor: usize) -> bool {
        self.ancestry(o).contains(&ancestor)
    }

    /// The ancestor (or self) just below the company.
    pub(super) fn top_unit(&self, o: usize) -> usize {
        self.ancestry(o)
            .into_iter()
            .find(|&a| self.org(a).is_some_and(|x| x.depth == 1))
            .unwrap_or(o)
    }

    /// The deepest unit among `o` and its ancestors whose kind is one of `kinds`.
    pub(super) fn ancestor_of_kinds(&self, o: usize, kinds: &[usize]) -> Option<usize> {
        self.ancestry(o).into_iter().find(|&a| {
            self.org(a)
                .and_then(|x| x.kind)
                .is_some_and(|k| kinds.contains(&k))
        })
    }
}

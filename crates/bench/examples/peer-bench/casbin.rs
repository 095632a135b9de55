//! The tenant in casbin 2.x: RBAC with pattern domains, privileges as nodes of the role
//! graph, relations as a second grouping, one policy line per action kind and the
//! requirement of each kind in the matcher.
//!
//! - `g` (with domains): `g, u1, role3, /*` gives a role tenant-wide; `g, u1, role3,
//!   /hq/office2/*` over org unit office2 and its subtree. The domain matching function
//!   is casbin's `keyMatch`, so a resource whose domain is `/hq/office2/` matches both
//!   `/*` and `/hq/office2/*`; the tenant itself is `/` and matches only `/*`.
//!   Role inclusion (`g, role3, role1, /*`), grants (`g, role3, p17, /*` or
//!   `g, role3, p4#Modify, /*`), level order (`g, p4#Modify, p4#View only, /*`,
//!   `g, p4#View only, p4, /*`) and the privilege tree (a parent's top is linked to each
//!   child's top) are links of the same graph, so `g(user, privilege, domain)` answers
//!   "holds it there".
//! - `g2`: queue membership (`g2, u1, q7`); `g3`: a conversation's agent (`g3, c9, u1`).
//!   (casbin-rs keeps every grouping in one role manager; these have no domain.)
//! - The application passes the resource's domain (its org unit's path), as every
//!   casbin RBAC-with-domains caller does; it looks it up in a `HashMap`.

use std::collections::HashMap;

use casbin::function_map::key_match;
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use rolecall_bench::workload::Check;
use rolecall_core::Profile;
use rolecall_core::state::TenantState;

use crate::tenant::{self, Act, Held, PrivInfo};

/// The model.
pub const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = act, rule

[role_definition]
g = _, _, _
g2 = _, _
g3 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && (p.rule == "held" && g(r.sub, r.obj, r.dom) || p.rule == "monitor" && g(r.sub, "queue_monitor", r.dom) && (g(r.sub, "all_queues", r.dom) || g2(r.sub, r.obj)) || p.rule == "edit" && (g(r.sub, "edit_all", r.dom) || g(r.sub, "edit_own", r.dom) && g3(r.obj, r.sub)))
"#;

/// The casbin engine.
pub struct Casbin {
    enforcer: Enforcer,
    queue_domain: HashMap<String, String>,
    conv_queue: HashMap<String, String>,
}

fn level_node(info: &PrivInfo, k: usize) -> String {
    format!(
        "{}#{}",
        info.id,
        info.levels.get(k).map_or("", String::as_str)
    )
}

fn top_node(info: &PrivInfo) -> String {
    match info.top_level() {
        Some(k) => level_node(info, k),
        None => info.id.clone(),
    }
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Casbin {
    /// Builds the enforcer (model, matching function, policies, groupings).
    pub async fn build(profile: &Profile, s: &TenantState) -> Result<Self, String> {
        let err = |e: casbin::Error| e.to_string();
        let model = DefaultModel::from_str(MODEL).await.map_err(err)?;
        let mut e = Enforcer::new(model, MemoryAdapter::default())
            .await
            .map_err(err)?;
        e.get_role_manager()
            .write()
            .matching_fn(None, Some(key_match));
        e.add_policies(vec![
            v(&["hold", "held"]),
            v(&["queue.monitor", "monitor"]),
            v(&["conversation.edit", "edit"]),
        ])
        .await
        .map_err(err)?;
        // Org unit paths: `/hq/office2/`.
        let orgs: Vec<_> = tenant::of_type(s, "org_unit").collect();
        let parent: HashMap<&str, &str> = orgs
            .iter()
            .filter_map(|o| tenant::rel1(o, "parent").map(|p| (o.id.as_str(), p)))
            .collect();
        let path = |o: &str| -> String {
            let mut chain = vec![o];
            let mut cur = o;
            while let Some(p) = parent.get(cur) {
                if chain.len() > 64 {
                    break;
                }
                chain.push(p);
                cur = p;
            }
            chain.reverse();
            format!("/{}/", chain.join("/"))
        };
        let infos = tenant::privileges(profile)?;
        let all = "/*";
        let mut g: Vec<Vec<String>> = Vec::new();
        for info in &infos {
            let mut below = info.id.clone();
            for k in 0..info.levels.len() {
                let n = level_node(info, k);
                g.push(vec![n.clone(), below, all.to_owned()]);
                below = n;
            }
            for &c in &info.children {
                let child = infos.get(c).ok_or("bad child index")?;
                g.push(vec![top_node(info), top_node(child), all.to_owned()]);
            }
        }
        for r in &s.roles {
            for inc in &r.includes {
                g.push(vec![r.id.clone(), inc.clone(), all.to_owned()]);
            }
            for (key, gv) in &r.grants {
                let info = infos
                    .get(tenant::priv_index(profile, key)?)
                    .ok_or("bad privilege index")?;
                let node = match tenant::held(info, gv)? {
                    Held::Off => continue,
                    Held::Flag => info.id.clone(),
                    Held::Level(k) => level_node(info, k),
                };
                g.push(vec![r.id.clone(), node, all.to_owned()]);
            }
        }
        for a in &s.assignments {
            match tenant::org_scope(a)? {
                None => g.push(vec![a.principal.clone(), a.role.clone(), all.to_owned()]),
                Some(units) => {
                    for u in units {
                        g.push(vec![
                            a.principal.clone(),
                            a.role.clone(),
                            format!("{}*", path(u)),
                        ]);
                    }
                }
            }
        }
        e.add_named_grouping_policies("g", g).await.map_err(err)?;
        let mut g2 = Vec::new();
        let mut queue_domain = HashMap::new();
        for q in tenant::of_type(s, "queue") {
            for m in tenant::rel(q, "members") {
                g2.push(vec![m.clone(), q.id.clone()]);
            }
            let dom = tenant::rel1(q, "org_unit").map_or_else(|| "/".to_owned(), path);
            queue_domain.insert(q.id.clone(), dom);
        }
        e.add_named_grouping_policies("g2", g2).await.map_err(err)?;
        let mut g3 = Vec::new();
        let mut conv_queue = HashMap::new();
        for c in tenant::of_type(s, "conversation") {
            if let Some(a) = tenant::rel1(c, "agent") {
                g3.push(vec![c.id.clone(), a.to_owned()]);
            }
            if let Some(q) = tenant::rel1(c, "queue") {
                conv_queue.insert(c.id.clone(), q.to_owned());
            }
        }
        e.add_named_grouping_policies("g3", g3).await.map_err(err)?;
        Ok(Self {
            enforcer: e,
            queue_domain,
            conv_queue,
        })
    }

    /// Decides one check: one `enforce` call.
    pub fn check(&self, c: &Check) -> Result<bool, String> {
        let p = c.principal.as_str();
        let r = match tenant::act(&c.action)? {
            Act::Hold(privilege) => self.enforcer.enforce((p, "/", privilege, "hold")),
            Act::Monitor => {
                let dom = self
                    .queue_domain
                    .get(&c.resource_id)
                    .ok_or_else(|| format!("unknown queue `{}`", c.resource_id))?;
                self.enforcer
                    .enforce((p, dom.as_str(), c.resource_id.as_str(), "queue.monitor"))
            }
            Act::Edit => {
                let dom = self
                    .conv_queue
                    .get(&c.resource_id)
                    .and_then(|q| self.queue_domain.get(q))
                    .ok_or_else(|| format!("unknown conversation `{}`", c.resource_id))?;
                self.enforcer.enforce((
                    p,
                    dom.as_str(),
                    c.resource_id.as_str(),
                    "conversation.edit",
                ))
            }
        };
        r.map_err(|e| e.to_string())
    }
}

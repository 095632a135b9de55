//! Tenant settings (e.g. "allow agents to log in to unassigned queues"), typed by the
//! profile; decisions change at once.

use std::collections::BTreeMap;

use rolecall_core::Change;
use rolecall_core::profile::{Value, ValueType};

use crate::actor::Actor;
use crate::authz::{Object, authorize};
use crate::command::{Command, Plan};
use crate::error::{EngineError, EngineResult};
use crate::view::View;

/// The changes a settings body describes (setting id → JSON value), validated against
/// the profile.
pub fn setting_changes(
    view: &View,
    body: &BTreeMap<String, serde_json::Value>,
) -> EngineResult<Vec<Change>> {
    if body.is_empty() {
        return Err(EngineError::BadRequest("no setting given".into()));
    }
    let settings = &view.profile.settings;
    let mut changes = Vec::new();
    for (k, v) in body {
        let d = settings.iter().find(|d| d.id == *k).ok_or_else(|| {
            let known: Vec<&str> = settings.iter().map(|d| d.id.as_str()).collect();
            EngineError::Invalid(format!(
                "unknown setting `{k}`; this profile has: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let value = match (d.ty, v) {
            (ValueType::Bool, serde_json::Value::Bool(b)) => Value::Bool(*b),
            (ValueType::Int, serde_json::Value::Number(n)) if n.is_i64() => {
                Value::Int(n.as_i64().unwrap_or_default())
            }
            (ValueType::Str, serde_json::Value::String(x)) => Value::Str(x.clone()),
            _ => {
                return Err(EngineError::Invalid(format!(
                    "setting `{k}` takes a {}, not {v}",
                    d.ty.name()
                )));
            }
        };
        changes.push(Change::SetSetting {
            key: k.clone(),
            value,
        });
    }
    Ok(changes)
}

/// Sets settings.
#[derive(Debug, Clone)]
pub struct SetSettings(pub BTreeMap<String, serde_json::Value>);

impl Command for SetSettings {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        authorize(&view.snapshot, actor, "settings.write", Object::Tenant, now)?;
        Ok(Plan::of(setting_changes(view, &self.0)?))
    }
}

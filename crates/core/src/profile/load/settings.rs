//! Settings: each tenant setting's value type and default, checked against each
//! other; and value types as written (`bool`, `int`, `string`).

use toml::Spanned;

use super::Loader;
use crate::profile::model::{SettingDef, Value, ValueType};
use crate::profile::raw::RawSetting;

impl Loader<'_> {
    /// A value type as written; an unknown one is reported and read as `string`.
    pub(super) fn value_type(&mut self, ty: &Spanned<String>) -> ValueType {
        match ty.get_ref().as_str() {
            "bool" => ValueType::Bool,
            "int" => ValueType::Int,
            "string" => ValueType::Str,
            other => {
                self.err(
                    &ty.span(),
                    format!("unknown type `{other}`; expected `bool`, `int` or `string`"),
                );
                ValueType::Str
            }
        }
    }

    /// The settings, each with a default of its type (the type's zero when absent).
    pub(super) fn settings(&mut self, raw: &[Spanned<RawSetting>]) -> Vec<SettingDef> {
        self.unique(raw.iter().map(|s| &s.get_ref().id), "setting");
        let mut out = Vec::new();
        for s in raw {
            let s = s.get_ref();
            let ty = self.value_type(&s.ty);
            let default = match &s.default {
                Some(d) => {
                    let v: Value = d.get_ref().into();
                    if v.ty() != ty {
                        self.err(
                            &d.span(),
                            format!(
                                "default of setting `{}` must be {}",
                                s.id.get_ref(),
                                ty.name()
                            ),
                        );
                    }
                    v
                }
                None => zero(ty),
            };
            out.push(SettingDef {
                id: s.id.get_ref().clone(),
                name: s.name.clone().unwrap_or_else(|| s.id.get_ref().clone()),
                ty,
                default,
                description: s.description.clone(),
            });
        }
        out
    }
}

/// The default of a setting declared without one.
fn zero(ty: ValueType) -> Value {
    match ty {
        ValueType::Bool => Value::Bool(false),
        ValueType::Int => Value::Int(0),
        ValueType::Str => Value::Str(String::new()),
    }
}

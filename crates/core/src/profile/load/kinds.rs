//! Privilege kinds: flag, levels, choice (with the implications between choices,
//! closed transitively) and number (bounds and default). Keys that belong to another
//! kind are reported.

use std::ops::Range;

use super::Loader;
use crate::profile::model::PrivKind;
use crate::profile::quoted;
use crate::profile::raw::RawPrivilege;

impl Loader<'_> {
    /// The privilege's kind, `flag` when not written.
    pub(super) fn privilege_kind(&mut self, p: &RawPrivilege) -> PrivKind {
        let kind = p.kind.as_ref().map_or("flag", |k| k.get_ref().as_str());
        let kind_span = p.kind.as_ref().map_or_else(|| p.id.span(), |k| k.span());
        if !matches!(kind, "flag" | "levels" | "choice" | "number") {
            self.err(&kind_span, format!("unknown privilege kind `{kind}`; expected `flag`, `levels`, `choice` or `number`"));
            return PrivKind::Flag;
        }
        self.stray_keys(p, kind);
        match kind {
            "flag" => PrivKind::Flag,
            "levels" => self.levels_kind(p),
            "choice" => self.choice_kind(p),
            "number" => self.number_kind(p),
            other => {
                self.err(&kind_span, format!("unknown privilege kind `{other}`; expected `flag`, `levels`, `choice` or `number`"));
                PrivKind::Flag
            }
        }
    }

    /// Reports keys written on the privilege that only another kind takes.
    fn stray_keys(&mut self, p: &RawPrivilege, kind: &str) {
        let id = p.id.get_ref();
        let stray = |l: &mut Self, present: bool, key: &str| {
            if present {
                l.err(
                    &p.id.span(),
                    format!("`{key}` does not apply to a {kind} privilege (`{id}`)"),
                );
            }
        };
        if kind != "levels" {
            stray(self, p.levels.is_some(), "levels");
        }
        if kind != "choice" {
            stray(self, p.choices.is_some(), "choices");
            stray(self, p.includes.is_some(), "includes");
            stray(self, p.multiple.is_some(), "multiple");
        }
        if kind != "number" {
            stray(self, p.min.is_some(), "min");
            stray(self, p.max.is_some(), "max");
            stray(self, p.default.is_some(), "default");
            stray(self, p.unit.is_some(), "unit");
        }
    }

    /// Levels, lowest first: at least one, none twice.
    fn levels_kind(&mut self, p: &RawPrivilege) -> PrivKind {
        let levels = p
            .levels
            .as_ref()
            .map(|l| l.get_ref().clone())
            .unwrap_or_default();
        let span = p.levels.as_ref().map_or_else(|| p.id.span(), |l| l.span());
        self.nonempty_unique(&levels, &span, p.id.get_ref(), "levels");
        PrivKind::Levels(levels)
    }

    /// Choices (at least one, none twice) and what each implies.
    fn choice_kind(&mut self, p: &RawPrivilege) -> PrivKind {
        let choices = p
            .choices
            .as_ref()
            .map(|l| l.get_ref().clone())
            .unwrap_or_default();
        let span = p.choices.as_ref().map_or_else(|| p.id.span(), |l| l.span());
        self.nonempty_unique(&choices, &span, p.id.get_ref(), "choices");
        let direct = self.choice_includes(p, &choices);
        PrivKind::Choice {
            implies: close_implications(&direct),
            choices,
            multiple: p.multiple.unwrap_or(false),
        }
    }

    /// For each choice, itself and the choices its `includes` entry names.
    fn choice_includes(&mut self, p: &RawPrivilege, choices: &[String]) -> Vec<Vec<usize>> {
        let mut direct: Vec<Vec<usize>> = (0..choices.len()).map(|i| vec![i]).collect();
        for (from, tos) in p.includes.iter().flatten() {
            let Some(f) = choices.iter().position(|c| c == from.get_ref()) else {
                self.err(
                    &from.span(),
                    format!(
                        "unknown choice `{}`; expected one of {}",
                        from.get_ref(),
                        quoted(choices)
                    ),
                );
                continue;
            };
            for to in tos.get_ref() {
                match choices.iter().position(|c| c == to) {
                    Some(t) => {
                        if let Some(d) = direct.get_mut(f) {
                            d.push(t);
                        }
                    }
                    None => self.err(
                        &tos.span(),
                        format!("unknown choice `{to}`; expected one of {}", quoted(choices)),
                    ),
                }
            }
        }
        direct
    }

    /// A number between `min` and `max`, with a default inside them.
    fn number_kind(&mut self, p: &RawPrivilege) -> PrivKind {
        let id = p.id.get_ref();
        let min = p.min.unwrap_or(0);
        let max = p.max.unwrap_or(i64::MAX);
        if min > max {
            self.err(
                &p.id.span(),
                format!("`{id}`: min {min} is greater than max {max}"),
            );
        }
        let default = p.default.as_ref().map_or(min, |d| *d.get_ref());
        if default < min || default > max {
            let span = p.default.as_ref().map_or_else(|| p.id.span(), |d| d.span());
            self.err(
                &span,
                format!("`{id}`: default {default} is outside {min}..={max}"),
            );
        }
        PrivKind::Number {
            min,
            max,
            default,
            unit: p.unit.clone(),
        }
    }

    /// Reports an empty list, and every entry listed twice.
    fn nonempty_unique(&mut self, items: &[String], span: &Range<usize>, id: &str, what: &str) {
        if items.is_empty() {
            self.err(span, format!("`{id}` needs at least one entry in `{what}`"));
        }
        for (i, x) in items.iter().enumerate() {
            if items.iter().take(i).any(|y| y == x) {
                self.err(span, format!("`{id}` lists `{x}` twice in `{what}`"));
            }
        }
    }
}

/// The transitive closure of the direct implications, each sorted: a walk from each
/// choice (at most [`crate::profile::limits::MAX_OPTIONS`]), linear in the implications.
fn close_implications(direct: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = direct.len();
    (0..n)
        .map(|i| {
            let mut seen = vec![false; n];
            let mut stack = vec![i];
            while let Some(c) = stack.pop() {
                match seen.get_mut(c) {
                    Some(s) if !*s => *s = true,
                    _ => continue,
                }
                stack.extend(direct.get(c).into_iter().flatten().copied());
            }
            (0..n).filter(|&c| seen.get(c) == Some(&true)).collect()
        })
        .collect()
}

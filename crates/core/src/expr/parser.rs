//! Recursive-descent parser for requirement expressions (grammar in
//! docs/profile-format.md). Errors carry the span of the offending token.

use super::ast::{Ast, Name, Operand, PathAst, Root, Span};
use super::lexer::{Tok, lex};
use crate::profile::limits::MAX_PATH_STEPS;

/// A syntax error with the span (relative to the expression text) where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What is wrong and what was expected.
    pub message: String,
    /// Where, relative to the start of the expression text.
    pub span: Span,
}

/// Parses a requirement expression of any number of terms.
pub fn parse(text: &str) -> Result<Ast, ParseError> {
    parse_limited(text, usize::MAX).map(|(ast, _)| ast)
}

/// Parses a requirement expression of at most `max_terms` terms: each `has(…)`,
/// comparison, `in`, `shares(…)`, `setting(…)`, `true`/`false` and `not`, and each
/// chain of `and` or of `or`. A longer one is refused where the limit is crossed,
/// before the rest is parsed. Returns the expression and its number of terms.
pub fn parse_limited(text: &str, max_terms: usize) -> Result<(Ast, usize), ParseError> {
    let toks = lex(text).map_err(|(message, span)| ParseError { message, span })?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        terms: 0,
        max_terms,
    };
    let ast = p.expr()?;
    let (tok, span) = p.peek();
    if *tok != Tok::End {
        return Err(ParseError {
            message: format!(
                "expected `and`, `or` or end of expression, found {}",
                tok.describe()
            ),
            span: span.clone(),
        });
    }
    Ok((ast, p.terms))
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    depth: usize,
    /// Terms parsed so far.
    terms: usize,
    max_terms: usize,
}

static END: (Tok, Span) = (Tok::End, 0..0);

impl Parser {
    fn peek(&self) -> &(Tok, Span) {
        self.toks.get(self.pos).unwrap_or(&END)
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().0, Tok::Ident(s) if s == word)
    }

    fn err<T>(&self, expected: &str) -> Result<T, ParseError> {
        let (tok, span) = self.peek();
        Err(ParseError {
            message: format!("expected {expected}, found {}", tok.describe()),
            span: span.clone(),
        })
    }

    /// Counts one more term, which starts at `span`.
    fn term(&mut self, span: &Span) -> Result<(), ParseError> {
        self.terms += 1;
        if self.terms > self.max_terms {
            return Err(ParseError {
                message: format!(
                    "expression has more than {} terms",
                    crate::profile::limits::thousands(self.max_terms)
                ),
                span: span.clone(),
            });
        }
        Ok(())
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<Span, ParseError> {
        if &self.peek().0 == want {
            Ok(self.bump().1)
        } else {
            self.err(what)
        }
    }

    fn expr(&mut self) -> Result<Ast, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().1.clone();
            return Err(ParseError {
                message: format!("expression nested deeper than {MAX_DEPTH} levels"),
                span,
            });
        }
        let r = self.or();
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> Result<Ast, ParseError> {
        let mut items = vec![self.and()?];
        while self.is_word("or") {
            let (_, span) = self.bump();
            if items.len() == 1 {
                self.term(&span)?;
            }
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::Or(items)
        })
    }

    fn and(&mut self) -> Result<Ast, ParseError> {
        let mut items = vec![self.unary()?];
        while self.is_word("and") {
            let (_, span) = self.bump();
            if items.len() == 1 {
                self.term(&span)?;
            }
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::And(items)
        })
    }

    fn unary(&mut self) -> Result<Ast, ParseError> {
        if self.is_word("not") {
            let (_, span) = self.bump();
            self.term(&span)?;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ParseError {
                    message: format!("expression nested deeper than {MAX_DEPTH} levels"),
                    span,
                });
            }
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner?), span));
        }
        self.primary()
    }

    fn string_arg(&mut self, what: &str) -> Result<Name, ParseError> {
        match self.peek().clone() {
            (Tok::Str(text), span) => {
                self.bump();
                Ok(Name { text, span })
            }
            _ => self.err(what),
        }
    }

    fn primary(&mut self) -> Result<Ast, ParseError> {
        let (tok, span) = self.peek().clone();
        if tok != Tok::LParen {
            self.term(&span)?;
        }
        match tok {
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(inner)
            }
            Tok::Ident(ref w) if w == "has" => {
                self.bump();
                self.expect(&Tok::LParen, "`(` after `has`")?;
                let privilege = self.string_arg("a privilege name in quotes")?;
                let level = if self.peek().0 == Tok::Comma {
                    self.bump();
                    Some(self.string_arg("a level or choice name in quotes")?)
                } else {
                    None
                };
                let end = self.expect(&Tok::RParen, "`)` or `, \"level\"`")?;
                Ok(Ast::Has {
                    privilege,
                    level,
                    span: span.start..end.end,
                })
            }
            Tok::Ident(ref w) if w == "shares" => {
                self.bump();
                self.expect(&Tok::LParen, "`(` after `shares`")?;
                let a = self.path()?;
                self.expect(&Tok::Comma, "`,` between the two sets")?;
                let b = self.path()?;
                let end = self.expect(&Tok::RParen, "`)`")?;
                Ok(Ast::Shares(a, b, span.start..end.end))
            }
            _ => {
                let lhs = self.operand()?;
                match self.peek().clone() {
                    (Tok::Op(op), _) => {
                        self.bump();
                        let rhs = self.operand()?;
                        let whole = lhs.span().start..rhs.span().end;
                        Ok(Ast::Compare { op, lhs, rhs, span: whole })
                    }
                    (Tok::Ident(ref w), _) if w == "in" => {
                        self.bump();
                        let set = self.path()?;
                        let whole = lhs.span().start..set.span().end;
                        Ok(Ast::In { elem: lhs, set, span: whole })
                    }
                    _ => match lhs {
                        Operand::Bool(b, s) => Ok(Ast::Bool(b, s)),
                        Operand::Setting(n) => Ok(Ast::Setting(n)),
                        other => Err(ParseError {
                            message: "expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) or `in` after this value"
                                .into(),
                            span: other.span(),
                        }),
                    },
                }
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let (tok, span) = self.peek().clone();
        match tok {
            Tok::Str(text) => {
                self.bump();
                Ok(Operand::Str(Name { text, span }))
            }
            Tok::Int(v) => {
                self.bump();
                Ok(Operand::Int(v, span))
            }
            Tok::Ident(w) => match w.as_str() {
                "true" | "false" => {
                    self.bump();
                    Ok(Operand::Bool(w == "true", span))
                }
                "setting" | "value" => {
                    self.bump();
                    self.expect(&Tok::LParen, &format!("`(` after `{w}`"))?;
                    let what = if w == "setting" { "a setting id in quotes" } else { "a privilege name in quotes" };
                    let name = self.string_arg(what)?;
                    self.expect(&Tok::RParen, "`)`")?;
                    Ok(if w == "setting" { Operand::Setting(name) } else { Operand::Value(name) })
                }
                "principal" | "resource" | "context" => Ok(Operand::Path(self.path()?)),
                _ => self.err(
                    "`has(…)`, `shares(…)`, `setting(…)`, `value(…)`, `principal`, `resource`, `context`, `not`, `true`, `false`, a string, a number or `(`",
                ),
            },
            _ => self.err(
                "`has(…)`, `shares(…)`, `setting(…)`, `principal`, `resource`, `context`, `not`, a value or `(`",
            ),
        }
    }

    fn path(&mut self) -> Result<PathAst, ParseError> {
        let (tok, root_span) = self.peek().clone();
        let root = match tok {
            Tok::Ident(ref w) if w == "principal" => Root::Principal,
            Tok::Ident(ref w) if w == "resource" => Root::Resource,
            Tok::Ident(ref w) if w == "context" => Root::Context,
            _ => return self.err("`principal`, `resource` or `context`"),
        };
        self.bump();
        let mut segments = Vec::new();
        while self.peek().0 == Tok::Dot {
            self.bump();
            match self.peek().clone() {
                (Tok::Ident(text), span) => {
                    self.bump();
                    if segments.len() == MAX_PATH_STEPS {
                        return Err(ParseError {
                            message: format!(
                                "path longer than {MAX_PATH_STEPS} steps after `{}`",
                                match root {
                                    Root::Principal => "principal",
                                    Root::Resource => "resource",
                                    Root::Context => "context",
                                }
                            ),
                            span,
                        });
                    }
                    segments.push(Name { text, span });
                }
                _ => return self.err("a relation or attribute name after `.`"),
            }
        }
        Ok(PathAst {
            root,
            root_span,
            segments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_precedence_and_calls() {
        let ast =
            parse(r#"has("A") or has("B", "Modify") and resource.agent == principal"#).unwrap();
        match ast {
            Ast::Or(items) => {
                assert_eq!(items.len(), 2);
                assert!(matches!(items[1], Ast::And(_)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse(r#"has("A") and and"#).unwrap_err();
        assert_eq!(e.span, 13..16);
        assert!(e.message.contains("expected"), "{}", e.message);
        let e = parse(r#"has("A""#).unwrap_err();
        assert!(e.message.contains("`)`"), "{}", e.message);
        let e = parse(r#"principal.x = 3"#).unwrap_err();
        assert!(e.message.contains("=="), "{}", e.message);
    }

    #[test]
    fn terms_are_counted_and_limited() {
        // has, or-chain, has, and-chain, not, compare: 6 terms.
        let text = r#"has("A") or not has("B") and resource.agent == principal"#;
        assert_eq!(parse_limited(text, 6).unwrap().1, 6);
        let e = parse_limited(text, 5).unwrap_err();
        assert_eq!(e.message, "expression has more than 5 terms");
        let long = vec![r#"has("A")"#; 100_000].join(" or ");
        let e = parse_limited(&long, 1000).unwrap_err();
        assert_eq!(e.message, "expression has more than 1,000 terms");
        // Refused where the limit is crossed: the 1,000th `has` (the `or` chain is a term).
        assert_eq!(e.span.start, 999 * r#"has("A") or "#.len());
        assert!(parse(&long).is_ok());
    }

    #[test]
    fn paths_are_limited() {
        let ok = format!("principal{} == principal", ".groups".repeat(MAX_PATH_STEPS));
        assert!(parse(&ok).is_ok());
        let long = format!("principal{} == principal", ".groups".repeat(10_000));
        let e = parse(&long).unwrap_err();
        assert_eq!(e.message, "path longer than 16 steps after `principal`");
        assert_eq!(e.span.start, "principal".len() + 16 * ".groups".len() + 1);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&text).is_err());
        let text = format!("{}true", "not ".repeat(10_000));
        assert!(parse(&text).is_err());
    }
}

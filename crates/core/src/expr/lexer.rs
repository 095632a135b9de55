//! Tokens of requirement expressions.

use super::ast::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    Comma,
    Dot,
    Op(super::ast::CmpOp),
    End,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Int(i) => format!("number `{i}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::End => "end of expression".into(),
        }
    }
}

/// Splits `text` into tokens with spans; the last token is `End`.
pub(crate) fn lex(text: &str) -> Result<Vec<(Tok, Span)>, (String, Span)> {
    use super::ast::CmpOp;
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = |t: Tok| (t, start..start + c.len_utf8());
        match c {
            '(' => {
                chars.next();
                out.push(single(Tok::LParen));
            }
            ')' => {
                chars.next();
                out.push(single(Tok::RParen));
            }
            ',' => {
                chars.next();
                out.push(single(Tok::Comma));
            }
            '.' => {
                chars.next();
                out.push(single(Tok::Dot));
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let eq_next = chars.peek().is_some_and(|&(_, n)| n == '=');
                if eq_next {
                    chars.next();
                }
                let op = match (c, eq_next) {
                    ('=', true) => CmpOp::Eq,
                    ('!', true) => CmpOp::Ne,
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    ('>', true) => CmpOp::Ge,
                    ('=', false) => {
                        return Err(("`=` is not an operator; use `==`".into(), start..start + 1));
                    }
                    _ => {
                        return Err((
                            "`!` is not an operator; use `not` or `!=`".into(),
                            start..start + 1,
                        ));
                    }
                };
                let end = if eq_next { start + 2 } else { start + 1 };
                out.push((Tok::Op(op), start..end));
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                let mut end = None;
                while let Some((i, ch)) = chars.next() {
                    match ch {
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, '"')) => s.push('"'),
                            Some((_, '\\')) => s.push('\\'),
                            Some((j, other)) => {
                                return Err((
                                    format!("unknown escape `\\{other}` in string"),
                                    i..j + other.len_utf8(),
                                ));
                            }
                            None => break,
                        },
                        _ => s.push(ch),
                    }
                }
                match end {
                    Some(end) => out.push((Tok::Str(s), start..end)),
                    None => {
                        return Err((
                            "unterminated string: expected a closing `\"`".into(),
                            start..text.len(),
                        ));
                    }
                }
            }
            c if c.is_ascii_digit() || c == '-' => {
                chars.next();
                let mut end = start + 1;
                while let Some(&(i, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        end = i + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                let lit = text.get(start..end).unwrap_or("");
                match lit.parse::<i64>() {
                    Ok(v) => out.push((Tok::Int(v), start..end)),
                    Err(_) => return Err((format!("invalid number `{lit}`"), start..end)),
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                chars.next();
                let mut end = start + c.len_utf8();
                while let Some(&(i, d)) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' {
                        end = i + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push((
                    Tok::Ident(text.get(start..end).unwrap_or("").to_owned()),
                    start..end,
                ));
            }
            other => {
                return Err((
                    format!("unexpected character `{other}`"),
                    start..start + other.len_utf8(),
                ));
            }
        }
    }
    out.push((Tok::End, text.len()..text.len()));
    Ok(out)
}

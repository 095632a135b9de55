//! The requirement-expression language: lexer, parser, the surface syntax tree with
//! positions, and the resolved form (names bound to the profile) that both
//! evaluators consume.

pub mod ast;
mod lexer;
mod parser;
pub mod resolved;

pub use parser::{ParseError, parse, parse_limited};

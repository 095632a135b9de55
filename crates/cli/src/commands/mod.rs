//! One module per subcommand.

pub mod audit;
pub mod catalog;
pub mod check;
pub mod lookup;
pub mod serve;
pub mod test;
pub mod token;
pub mod validate;

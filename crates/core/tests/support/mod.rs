//! Random profiles, tenant states and requests for differential tests.

pub mod generate;

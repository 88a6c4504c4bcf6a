pub mod expression;
pub mod functions;
pub mod template;

//! ARM templates (ARM issue): the `[...]` expression language and its functions
//! (`expression`, `functions`), and the deployment of a template into the resources it creates
//! (`template`), per Microsoft's template reference.

pub mod expression;
pub mod functions;
pub mod template;

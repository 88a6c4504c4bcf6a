//! The typed, validated topology: Azure's network resources after ingest has resolved every
//! reference and allocated every address. Nothing here does I/O; `ingest` builds it and
//! `engine` answers questions over it. Resource shapes follow the Microsoft.Network REST API
//! (azure-rest-api-specs, Microsoft.Network 2023-09-01).

pub mod addressing;
pub mod diagnostic;
pub mod ids;
pub mod intent;
pub mod kinds;
pub mod resource_id;
pub mod routing_types;
pub mod security;
pub mod service_tags;
pub mod topology;
pub mod validate;

pub use diagnostic::{Diagnostic, Origin};
pub use ids::*;
pub use kinds::*;
pub use resource_id::ResourceId;
pub use routing_types::{NextHopType, RoutePrefix};
pub use security::*;
pub use topology::*;

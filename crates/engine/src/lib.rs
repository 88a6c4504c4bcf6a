//! The engine: Azure's virtual-network semantics as pure functions over the model. No sockets,
//! clocks or threads, so the analyzer's predictions and the live lab's packets run the same
//! code (ARCHITECTURE.md "One engine, two front doors").

pub mod flow;
pub mod routes;
pub mod security;
pub mod trace;

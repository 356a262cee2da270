//! The resources of the API, one file each: every method of a resource and its [`Route`]s
//! (`crate::router::Route`) in that file. Handlers are thin: they read the request, call the
//! domain (`kpi_core`, `crate::answers`, `crate::ticket_merge`…) and the data layer
//! (`crate::db`), and write the reply.
pub mod demo;
pub mod events;
pub mod export;
pub mod health;
pub mod keys;
pub mod kpis;
pub mod opening_balances;
pub mod respondents;
pub mod responses;
pub mod rollups;
pub mod settings;
pub mod survey_links;
pub mod survey_page;
pub mod targets;
pub mod tenants;
pub mod tickets;

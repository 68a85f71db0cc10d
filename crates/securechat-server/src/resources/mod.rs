//! Resources: the links and documents a room shares (the seed's "Resource
//! Management"), room-wide or for one channel, optionally pinned.
//!
//! - [`validate`]: titles, descriptions and `http(s)` URLs (never fetched).
//! - [`store`]: the SQL; [`view`]: what clients see; [`http`]: the routes.
//!
//! A resource of an encrypted channel carries no plaintext: its title, URL
//! and description are sealed by the client in a message envelope, checked
//! like a message's (channel, key version, sender, signature). Changes are
//! pushed to the room's members as `resource_added`, `resource_updated`
//! and `resource_removed`.

pub mod http;
pub mod store;
pub mod validate;
pub mod view;

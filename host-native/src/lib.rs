//! uncork native host

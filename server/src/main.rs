//! `fieldconsult-server`: serve, and the mission admin's commands.

fn main() {}

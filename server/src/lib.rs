//! The FieldConsult mission sync server (work in progress).

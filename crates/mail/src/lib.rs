//! Blendesk's mail protocols: IMAP sessions and commands, SMTP submission, and MIME
//! parsing and building. No database and no business decisions here.

pub mod compose;
pub mod imap;
pub mod mime;
pub mod smtp;

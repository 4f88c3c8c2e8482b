//! Moving a team's coordination from the mailbox to PostgreSQL, in one command
//! (`blendesk coordination migrate`, run by a supervisor whose config already names the
//! database): every queue email's owner, releases and marks as the server's keywords
//! say, the policy in force, and the knowledge, usage and template messages (with the
//! migrating supervisor's approvals; others' are reported to be given again). Idempotent: running it again adds nothing, and an email
//! someone claimed in the database meanwhile keeps that owner (reported as a conflict).
//! The mailbox's keywords are left as they were (a record; nothing reads them once the
//! database coordinates).

use crate::coordination::email_key;
use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::automation::ack::ACK_KEYWORD;
use blendesk_domain::automation::late::{BREACHED_KEYWORD, LATE_KEYWORD};
use blendesk_domain::automation::template_doc::APPROVED_PREFIX;
use blendesk_domain::blending::Policy;
use blendesk_domain::claim::{DECLINED_PREFIX, OWNER_PREFIX};
use blendesk_domain::conversation::is_conv_flag;
use blendesk_domain::keywords::RESOLVED_KEYWORD;
use blendesk_mail::imap;
use serde::Serialize;

/// What a migration did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct TeamMigration {
    /// Queue emails read from the mailbox.
    pub emails: usize,
    /// Owners created in the database now, and those already there (an earlier run).
    pub owners_imported: usize,
    pub owners_unchanged: usize,
    /// Emails someone claimed in the database first: (email key, database owner, mailbox owner).
    pub conflicts: Vec<(String, String, String)>,
    pub releases_imported: usize,
    pub marks_imported: usize,
    /// The policy version published to the database, when the mailbox had one the
    /// database did not.
    pub policy_version: Option<u32>,
    /// Knowledge articles, usage events and template versions copied now.
    pub documents_imported: usize,
    /// Template approvals by other supervisors, which only they can give again in the
    /// database: (template, supervisor). The migrating supervisor's own are carried over.
    pub approvals_to_redo: Vec<(String, String)>,
}

/// A document message of the mailbox, to copy: its folder, raw text and approval keywords.
struct MailboxDocument {
    folder: &'static str,
    raw: String,
    flags: Vec<String>,
}

/// The mark the database keeps for a mailbox keyword, if it is one the apps read. The
/// earlier per-holder duty keywords (`$bd_ack_<id>`) become the one duty mark.
fn mark_of(keyword: &str) -> Option<&str> {
    let k = keyword.to_ascii_lowercase();
    for fixed in [RESOLVED_KEYWORD, BREACHED_KEYWORD, ACK_KEYWORD, LATE_KEYWORD] {
        if k == fixed.to_ascii_lowercase() {
            return Some(fixed);
        }
    }
    if k.starts_with(&format!("{}_", ACK_KEYWORD.to_ascii_lowercase())) {
        return Some(ACK_KEYWORD);
    }
    if k.starts_with(&format!("{}_", LATE_KEYWORD.to_ascii_lowercase())) {
        return Some(LATE_KEYWORD);
    }
    is_conv_flag(keyword).then_some(keyword)
}

fn advisor_after(keyword: &str, prefix: &str) -> Option<AdvisorId> {
    let head = keyword.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| AdvisorId::parse(&keyword[prefix.len()..]).ok()).flatten()
}

impl Engine {
    /// Copies the mailbox's coordination into the team's database (see the module).
    pub async fn migrate_to_database(&self) -> Result<TeamMigration> {
        if !self.coordinated_by_database() {
            return Err(EngineError::Config(crate::config::ConfigError::Invalid {
                path: "the configuration".into(),
                reason: "add a [coordination] section with backend = \"postgres\" (README) before migrating".into(),
            }));
        }
        let (mut owners, mut declined, mut marks) = (Vec::new(), Vec::new(), Vec::new());
        let mut report = TeamMigration::default();
        let policy_text = self
            .with_session(async |c| {
                for queue in &self.config.imap.queues {
                    let selected = imap::select(&mut c.session, queue, false).await?;
                    if selected.exists == 0 {
                        continue;
                    }
                    for (uid, flags, _) in imap::fetch_flags(&mut c.session, None).await? {
                        report.emails += 1;
                        let key = email_key(queue, selected.uidvalidity, uid);
                        for flag in &flags {
                            if let Some(owner) = advisor_after(flag, OWNER_PREFIX) {
                                owners.push((key.clone(), owner));
                            } else if let Some(advisor) = advisor_after(flag, DECLINED_PREFIX) {
                                declined.push((key.clone(), advisor));
                            } else if let Some(mark) = mark_of(flag) {
                                marks.push((key.clone(), mark.to_owned()));
                            }
                        }
                    }
                }
                let text = self.mailbox_policy_text(&mut c.session, 0).await?;
                Ok((text, self.mailbox_documents(&mut c.session).await?))
            })
            .await?;
        let (policy_text, documents) = policy_text;
        // Two owners on one email (an unsettled race of the mailbox backend): the lowest
        // advisor id keeps it, as `keywords::settle_double_owner` would settle it.
        owners.sort_by(|a, b| (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str())));
        owners.dedup_by(|later, first| later.0 == first.0);
        marks.sort();
        marks.dedup();
        let session = self.db_session().await?;
        let imported = session.import_owners(&owners).await?;
        report.owners_imported = imported.imported;
        report.owners_unchanged = imported.unchanged;
        report.conflicts = imported.conflicts.into_iter().map(|(k, db, mb)| (k, db.to_string(), mb.to_string())).collect();
        report.releases_imported = session.import_declined(&declined).await?;
        report.marks_imported = session.import_marks(&marks, &self.config.advisor.id).await?;
        if let Some((_, text)) = policy_text {
            let policy = Policy::parse(text.trim().as_bytes()).map_err(|e| EngineError::Policy(format!("the mailbox's policy: {e}")))?;
            let current = session.latest_policy().await?;
            if current.as_ref().is_none_or(|c| c.policy != policy) {
                self.db_publish_policy(&policy).await?;
                report.policy_version = Some(self.policy_uid());
            }
        }
        self.import_documents(&session, documents, &mut report).await?;
        self.db_pull_all().await?;
        Ok(report)
    }

    /// Every message of the mailbox's Knowledge, Usage and Templates folders.
    async fn mailbox_documents(&self, session: &mut imap::ImapSession) -> Result<Vec<MailboxDocument>> {
        let mut out = Vec::new();
        for folder in crate::coordination_docs::DATABASE_FOLDERS {
            let Ok(selected) = imap::select(session, &self.config.team_folder(folder), false).await else { continue };
            if selected.exists == 0 {
                continue;
            }
            let flags: std::collections::HashMap<u32, Vec<String>> =
                imap::fetch_flags(session, None).await?.into_iter().map(|(uid, f, _)| (uid, f)).collect();
            for (uid, raw) in imap::fetch_raw(session, "1:*", false).await? {
                // Documents are written by Blendesk as UTF-8; anything else is no document.
                let Ok(raw) = String::from_utf8(raw) else { continue };
                out.push(MailboxDocument { folder, raw, flags: flags.get(&uid).cloned().unwrap_or_default() });
            }
        }
        Ok(out)
    }

    /// Copies the mailbox's documents the database lacks (the same message text is not
    /// copied twice), with this supervisor's template approvals.
    async fn import_documents(
        &self,
        session: &blendesk_coord_pg::AdvisorSession,
        documents: Vec<MailboxDocument>,
        report: &mut TeamMigration,
    ) -> Result<()> {
        use blendesk_coord_pg::DocumentKind;
        let mut present = std::collections::HashSet::new();
        let mut after = 0;
        loop {
            let batch = session.documents_after(after, 1000).await?;
            let Some(last) = batch.last().map(|d| d.version) else { break };
            present.extend(batch.into_iter().filter_map(|d| d.document.get("message").and_then(|m| m.as_str()).map(str::to_owned)));
            after = last;
        }
        let me = &self.config.advisor.id;
        let meta = imap::MessageMeta { uid: 0, flags: Vec::new(), modseq: 0, size: 0, internal_date: 0 };
        for doc in documents.into_iter().filter(|d| !present.contains(&d.raw)) {
            let (kind, parsed) = match doc.folder {
                crate::docs::TEMPLATES_FOLDER => (DocumentKind::Template, crate::docs::template_version(&meta, doc.raw.as_bytes())),
                crate::docs::USAGE_FOLDER => (DocumentKind::Usage, crate::docs::knowledge_version(&meta, doc.raw.as_bytes())),
                _ => (DocumentKind::Knowledge, crate::docs::knowledge_version(&meta, doc.raw.as_bytes())),
            };
            if parsed.kind == blendesk_store::KIND_INVALID || parsed.doc_id.is_empty() {
                continue;
            }
            let id: String = parsed.doc_id.chars().take(200).collect();
            let version = session.publish_document(kind, &id, &serde_json::json!({ "message": doc.raw }), me).await?;
            report.documents_imported += 1;
            for approver in doc.flags.iter().filter_map(|f| advisor_after(f, APPROVED_PREFIX)) {
                if &approver == me {
                    session.approve_template(version, me).await?;
                } else {
                    report.approvals_to_redo.push((id.clone(), approver.to_string()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_map_to_the_databases_rows() {
        assert_eq!(mark_of("$resolved"), Some(RESOLVED_KEYWORD));
        assert_eq!(mark_of("$bd_ack_alice"), Some(ACK_KEYWORD));
        assert_eq!(mark_of("$bd_late_bob"), Some(LATE_KEYWORD));
        assert_eq!(mark_of("$bd_tok3"), Some("$bd_tok3"));
        assert_eq!(mark_of("$bd_touch"), None);
        assert_eq!(mark_of("\\Seen"), None);
        assert_eq!(advisor_after("$bd_owner_alice", OWNER_PREFIX).map(|a| a.to_string()), Some("alice".into()));
        assert_eq!(advisor_after("$BD_OWNER_alice", OWNER_PREFIX).map(|a| a.to_string()), Some("alice".into()));
        assert_eq!(advisor_after("$bd_owner_Not Valid", OWNER_PREFIX), None);
    }
}

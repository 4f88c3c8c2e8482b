//! Reply templates in `Blendesk/Templates`: supervisors publish and approve them,
//! advisors see approved ones only (trust model in
//! `blendesk_domain::automation::template_doc`), a template is filled from the open
//! conversation, and a reply that still has a required placeholder is not sent.

use crate::docs::TEMPLATES_FOLDER;
use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::automation::template::{lint, prefill, render, TemplateProblem};
use blendesk_domain::automation::template_doc::TemplateDoc;
use blendesk_domain::automation::template_doc::{
    approval_keyword, footer_name, templates_in_force, validate_template, with_footer, TemplateEntry, TemplateVersion, TemplateView,
    FOOTER_HEADER, LANGUAGE_HEADER, QUEUE_HEADER, TEMPLATE_HEADER,
};
use blendesk_mail::imap;
use blendesk_store::{KIND_TEMPLATE, KIND_TOMBSTONE};
use std::collections::HashMap;

/// The text a reply is sent with: a required placeholder left unfilled blocks it (the
/// error names each); an optional one left (`{{reply.apology?}}`) is dropped with its
/// line. Text without placeholders is unchanged.
pub fn final_reply_body(body: &str) -> Result<String> {
    render(body, &HashMap::new()).map_err(|missing| EngineError::Template(missing.to_string()))
}

fn problem_text(p: &TemplateProblem) -> String {
    match p {
        TemplateProblem::Unclosed { line } => format!("line {line}: '{{{{' without '}}}}' (left as text)"),
        TemplateProblem::Malformed { line, text } => format!("line {line}: {text} is not a placeholder (left as text)"),
        TemplateProblem::Unknown { line, name } => {
            format!("line {line}: {{{{{name}}}}} is not filled by the app: sending will be blocked until the advisor replaces it")
        }
    }
}

impl Engine {
    /// The mirrored template versions, as the domain rules read them.
    fn template_versions(&self) -> Result<Vec<TemplateVersion>> {
        Ok(self
            .store
            .doc_versions(TEMPLATES_FOLDER)?
            .into_iter()
            .filter_map(|v| {
                let entry = match v.kind.as_str() {
                    KIND_TEMPLATE => TemplateEntry::Template(TemplateDoc {
                        name: v.doc_id,
                        queue: v.queue,
                        language: v.language,
                        body: v.body,
                        footer: v.footer,
                    }),
                    KIND_TOMBSTONE => TemplateEntry::Tombstone { name: v.doc_id },
                    _ => return None,
                };
                Some(TemplateVersion { uid: v.uid, entry, flags: v.flags })
            })
            .collect())
    }

    /// Templates for this app's advisor: approved ones only; with `all` (supervisors
    /// only), the newest version of each, approved or pending.
    pub fn templates(&self, all: bool) -> Result<Vec<TemplateView>> {
        let policy = self.policy();
        if all && !policy.is_supervisor(&self.config.advisor.id) {
            return Err(EngineError::Policy(format!(
                "{} is not a supervisor in the policy; advisors see approved templates only",
                self.config.advisor.id.as_str()
            )));
        }
        let supervisors: Vec<String> = policy.supervisors.iter().map(|s| s.as_str().to_owned()).collect();
        Ok(templates_in_force(&self.template_versions()?, &supervisors, all))
    }

    /// Publish a template version (a supervisor's action); it needs approval before
    /// advisors see it. Returns the lint findings for the supervisor to read.
    pub async fn publish_template(&self, name: &str, queue: &str, language: &str, body: &str, footer: bool) -> Result<Vec<String>> {
        self.require_supervisor("publish templates").await?;
        let t = validate_template(name, queue, language, body, footer).map_err(|e| EngineError::Document(e.to_string()))?;
        let mut headers = vec![(TEMPLATE_HEADER, t.name.clone()), (QUEUE_HEADER, t.queue.clone()), (LANGUAGE_HEADER, t.language.clone())];
        if footer {
            headers.push((FOOTER_HEADER, "yes".to_owned()));
        }
        self.append_doc(TEMPLATES_FOLDER, &t.name, &headers, &t.body).await?;
        Ok(lint(&t.body).iter().map(problem_text).collect())
    }

    /// Approve the newest version of `name` (a supervisor's action): this supervisor's
    /// approval keyword on that message. Returns its UID.
    pub async fn approve_template(&self, name: &str) -> Result<u32> {
        self.require_supervisor("approve templates").await?;
        if self.docs_in_database(TEMPLATES_FOLDER) {
            self.db_sync_docs().await?;
            let newest = self.newest_template_version(name)?;
            self.db_approve_template(newest).await?;
            return Ok(newest);
        }
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            self.sync_doc_folder(&mut c.session, TEMPLATES_FOLDER, condstore).await?;
            let newest = self.newest_template_version(name)?;
            let keyword = approval_keyword(self.config.advisor.id.as_str());
            let state = self.store.doc_folder_state(TEMPLATES_FOLDER)?;
            let selected = imap::select(&mut c.session, &self.config.team_folder(TEMPLATES_FOLDER), condstore).await?;
            if selected.uidvalidity != state.uidvalidity {
                return Err(EngineError::Stale(TEMPLATES_FOLDER.into()));
            }
            match imap::store(&mut c.session, newest, &format!("+FLAGS.SILENT ({keyword})")).await {
                Err(e) if e.is_permission_denied() => {
                    return Err(EngineError::NotPermitted {
                        user: self.config.imap.username.clone(),
                        action: "approve templates",
                        folder: self.config.team_folder(TEMPLATES_FOLDER),
                        hint: "only supervisors may: the mailbox owner grants them the write right (w) on that folder",
                    });
                }
                other => other?,
            }
            self.sync_doc_folder(&mut c.session, TEMPLATES_FOLDER, condstore).await?;
            Ok(newest)
        })
        .await
    }

    /// The UID (or database version) of the newest version of template `name`.
    fn newest_template_version(&self, name: &str) -> Result<u32> {
        let name = name.trim();
        self.template_versions()?
            .into_iter()
            .filter(|v| !v.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted")))
            .filter(|v| matches!(&v.entry, TemplateEntry::Template(t) if t.name == name || t.name == footer_name(name)))
            .max_by_key(|v| v.uid)
            .map(|v| v.uid)
            .ok_or_else(|| EngineError::Document(format!("no template named {name:?}")))
    }

    /// Values the app fills for a reply to `message`.
    pub fn template_values(&self, message: i64) -> Result<HashMap<String, String>> {
        let m = self.store.message(message)?.ok_or(EngineError::NoSuchMessage(message))?;
        // The conversation's reference: that of its first customer message, as the
        // acknowledgement gave it ("#<uidvalidity mod 10000>-<uid>").
        let first = self
            .thread(message)?
            .into_iter()
            .find(|t| !t.outgoing)
            .and_then(|t| self.store.message(t.id).ok().flatten())
            .unwrap_or_else(|| m.clone());
        let key = self.conversation_keys()?.remove(&first.id).unwrap_or_else(|| first.from_addr.to_lowercase());
        let due = self.reply_due_ms(&key, &first.folder, first.internal_date * 1000)?.map_or(first.internal_date, |ms| ms / 1000);
        let due_label = time::OffsetDateTime::from_unix_timestamp(due)
            .ok()
            .and_then(|t| t.format(&time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok())
            .unwrap_or_default();
        let name = m.from_name.trim().to_owned();
        let first_name = if name.chars().any(blendesk_domain::fts::is_cjk) {
            name.clone()
        } else {
            name.split_whitespace().next().unwrap_or("").trim_matches(|c: char| !c.is_alphanumeric()).to_owned()
        };
        let values = [
            ("customer.first_name", first_name),
            ("customer.name", name),
            ("advisor.name", self.config.advisor.name.clone()),
            ("conversation.ref", format!("#{}-{}", first.uidvalidity % 10_000, first.uid)),
            ("conversation.subject", first.subject.clone()),
            ("sla.due", due_label),
            ("queue.name", m.folder.clone()),
        ];
        Ok(values.into_iter().map(|(k, v)| (k.to_owned(), v)).filter(|(_, v)| !v.trim().is_empty()).collect())
    }

    /// An approved template filled for a reply to `message`, with its queue's FAQ footer;
    /// what the app cannot fill stays as `{{…}}` for the advisor, and blocks sending
    /// until replaced (see [`final_reply_body`]).
    pub fn fill_template(&self, name: &str, message: i64) -> Result<String> {
        let approved = self.templates(false)?;
        let t = approved
            .iter()
            .find(|t| t.name == name && !t.footer)
            .ok_or_else(|| EngineError::Document(format!("no approved template named {name:?}")))?;
        let footer = approved.iter().find(|f| f.footer && f.queue == t.queue).map(|f| f.body.as_str());
        Ok(prefill(&with_footer(&t.body, footer), &self.template_values(message)?))
    }
}

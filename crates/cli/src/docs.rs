//! `blendesk knowledge …`, `blendesk template …`, `blendesk history …` and
//! `blendesk customer link|unlink`: the knowledge base, reply templates and customer
//! history over the engine. Thin: read files, call the engine, print.

use anyhow::{anyhow, Result};
use blendesk_engine::Engine;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Articles are Markdown files of at most this size (the domain checks 256 KB of text).
const FILE_MAX_BYTES: u64 = 1024 * 1024;

#[derive(Subcommand)]
pub enum KnowledgeAction {
    /// Publish an article (supervisors): the file is Markdown; its first `# ` heading is
    /// the title unless --title is given. With --id, a new version of that article.
    Publish {
        file: PathBuf,
        /// Comma-separated tags.
        #[arg(long, default_value = "")]
        tags: String,
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        title: Option<String>,
    },
    /// Articles ranked for a query (English or Chinese), best first.
    Search {
        query: String,
        #[arg(long, default_value_t = 5)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// The articles in force, with use counts; then any message in the folder that is not
    /// a valid article, and why.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Withdraw an article (supervisors).
    Delete { id: String },
    /// Mark an article as used (what the window's "used" button does).
    Used { id: String },
}

#[derive(Subcommand)]
pub enum TemplateAction {
    /// Publish a template version (supervisors); advisors see it once approved. With
    /// --footer, the file is the queue's FAQ-links footer (no --name needed).
    Publish {
        file: PathBuf,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "INBOX")]
        queue: String,
        #[arg(long, default_value = "en")]
        lang: String,
        #[arg(long)]
        footer: bool,
    },
    /// Approve the newest version of a template (supervisors; `footer/<queue>` for a footer).
    Approve { name: String },
    /// Approved templates; with --all (supervisors), every newest version and its state.
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum CustomerAction {
    /// Say that two addresses are the same customer (this app's database), or that a
    /// phone number (`+` and digits) is this address's (the whole team's event log).
    Link { a: String, b: String },
    /// Undo a link.
    Unlink { a: String, b: String },
}

fn read_text(file: &Path) -> Result<String> {
    let meta = std::fs::metadata(file).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
    if meta.len() > FILE_MAX_BYTES {
        return Err(anyhow!("{}: {} bytes is too large (at most {FILE_MAX_BYTES})", file.display(), meta.len()));
    }
    let bytes = std::fs::read(file).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
    String::from_utf8(bytes).map_err(|e| anyhow!("{}: not UTF-8 text (byte {})", file.display(), e.utf8_error().valid_up_to()))
}

/// The title (first `# ` heading) and the body without it.
fn split_title(text: &str) -> (Option<String>, String) {
    let mut lines = text.lines();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(t) = line.strip_prefix("# ") {
            return (Some(t.trim().to_owned()), lines.collect::<Vec<_>>().join("\n").trim().to_owned());
        }
        break;
    }
    (None, text.trim().to_owned())
}

pub async fn knowledge(engine: Arc<Engine>, action: KnowledgeAction) -> Result<()> {
    engine.refresh_shared_docs().await?;
    match action {
        KnowledgeAction::Publish { file, tags, id, title } => {
            let text = read_text(&file)?;
            let (heading, body) = split_title(&text);
            let title = title.or(heading).ok_or_else(|| anyhow!("{}: no title (a first line `# Title`, or --title)", file.display()))?;
            let tags: Vec<String> = tags.split(',').map(str::to_owned).collect();
            let id = engine.publish_article(id.as_deref(), &title, &tags, &body).await?;
            println!("{id}");
        }
        KnowledgeAction::Search { query, limit, json } => {
            let hits = engine.search_knowledge(&query, limit)?;
            if json {
                println!("{}", serde_json::to_string(&hits)?);
            } else {
                for h in hits {
                    println!("{:<32} {:>5} uses  {}  [{}]", h.article_id, h.uses, h.title, h.tags.join(", "));
                    println!("    {}", h.excerpt.replace('\n', " "));
                }
            }
        }
        KnowledgeAction::List { json } => {
            let articles = engine.knowledge_articles()?;
            let problems = engine.document_problems(blendesk_engine::docs::KNOWLEDGE_FOLDER)?;
            if json {
                println!("{}", serde_json::json!({ "articles": articles, "problems": problems }));
            } else {
                for a in &articles {
                    println!("{:<32} {:>5} uses  {}  [{}]", a.article_id, a.uses, a.title, a.tags.join(", "));
                }
                for p in &problems {
                    println!("not an article: UID {} {:?}: {}", p.uid, p.subject, p.problem);
                }
            }
        }
        KnowledgeAction::Delete { id } => {
            engine.delete_article(&id).await?;
            println!("deleted {id}");
        }
        KnowledgeAction::Used { id } => {
            let n = engine.mark_article_used(&id).await?;
            println!("{n}");
        }
    }
    Ok(())
}

pub async fn template(engine: Arc<Engine>, action: TemplateAction) -> Result<()> {
    engine.refresh_shared_docs().await?;
    engine.load_policy().await?;
    match action {
        TemplateAction::Publish { file, name, queue, lang, footer } => {
            let body = read_text(&file)?;
            let name = if footer || !name.trim().is_empty() {
                name
            } else {
                file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
            };
            let label = if footer { format!("footer/{queue}") } else { name.clone() };
            for warning in engine.publish_template(&name, &queue, &lang, &body, footer).await? {
                eprintln!("blendesk: warning: {label}: {warning}");
            }
            println!("published; it needs a supervisor's approval (blendesk template approve NAME)");
        }
        TemplateAction::Approve { name } => {
            let uid = engine.approve_template(&name).await?;
            println!("approved {name} (version {uid})");
        }
        TemplateAction::List { all, json } => {
            let templates = engine.templates(all)?;
            if json {
                println!("{}", serde_json::to_string(&templates)?);
            } else {
                for t in templates {
                    let state =
                        if t.approved { format!("approved by {}", t.approved_by.join(", ")) } else { "waiting for approval".into() };
                    let pending = if t.pending_uid.is_some() && t.approved { "; a newer version waits for approval" } else { "" };
                    println!("{:<28} {:<10} {:<6} {state}{pending}", t.name, t.queue, t.language);
                }
            }
        }
    }
    Ok(())
}

pub fn history(engine: &Engine, address: &str, json: bool) -> Result<()> {
    let h = engine.customer_conversations(address)?;
    if json {
        println!("{}", serde_json::to_string(&h)?);
        return Ok(());
    }
    println!("addresses  {}", h.addresses.join(", "));
    for c in &h.conversations {
        let status = serde_json::to_value(&c.status)?.as_str().unwrap_or("").to_owned();
        println!("{:<9} {:>3} messages  {}", status, c.messages, c.subject);
        if let Some(l) = &c.last_customer {
            println!("    customer: {}", l.excerpt.replace('\n', " "));
        }
        if let Some(l) = &c.last_reply {
            println!("    we said:  {}", l.excerpt.replace('\n', " "));
        }
    }
    Ok(())
}

pub async fn customer(engine: &Engine, action: CustomerAction) -> Result<()> {
    match action {
        CustomerAction::Link { a, b } if b.trim_start().starts_with('+') || b.trim().chars().all(|c| c.is_ascii_digit()) => {
            engine.link_phone(&a, &b)?;
            engine.sync_activity().await?;
            println!("linked for the team");
        }
        CustomerAction::Link { a, b } => {
            engine.link_customers(&a, &b)?;
            println!("linked");
        }
        CustomerAction::Unlink { a, b } => {
            println!("{}", if engine.unlink_customers(&a, &b)? { "unlinked" } else { "they were not linked" });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_heading_is_the_title() {
        assert_eq!(split_title("\n# Refunds\n\nBody\n"), (Some("Refunds".into()), "Body".into()));
        assert_eq!(split_title("No heading\n# Later"), (None, "No heading\n# Later".into()));
    }
}

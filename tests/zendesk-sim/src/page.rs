//! A small HTML page listing the simulator's tickets with their comments, public and internal,
//! so a person sees what a support agent would see.

use crate::State;
use crate::model::escape_html as escape;

/// The page of every ticket, or of one (`/agent/tickets/{id}`, where ticket URLs point).
pub fn render(state: &State, base_url: &str, only: Option<u64>) -> String {
    // Who, as an agent's screen tells it: name, address, and customer or staff.
    let name = |id: u64| {
        state.users.iter().find(|u| u.id == id).map(|u| {
            let role = if u.role == "end-user" { "customer" } else { "agent" };
            format!("{} &lt;{}&gt; ({role})", escape(&u.name), escape(&u.email))
        })
    };
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Zendesk simulator</title><style>\
         body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1f2933}\
         .ticket{border:1px solid #cbd2d9;border-radius:6px;padding:1rem;margin:1rem 0}\
         .status{font-weight:600;text-transform:uppercase;font-size:.8rem;padding:.1rem .4rem;border-radius:4px;background:#e4e7eb}\
         .comment{padding:.5rem .75rem;margin:.5rem 0;border-left:4px solid #3e7bfa;white-space:pre-wrap}\
         .internal{border-left-color:#f0b429;background:#fffbea}.meta{color:#616e7c;font-size:.85rem}\
         </style></head><body><h1>Zendesk simulator</h1>",
    );
    html.push_str(&format!(
        "<p class=\"meta\">API at {} · {} ticket(s), newest first · internal notes have a yellow bar</p>",
        escape(base_url),
        state.tickets.len()
    ));
    for ticket in state.tickets.iter().rev().filter(|t| only.is_none_or(|id| t.id == id)) {
        html.push_str(&format!(
            "<div class=\"ticket\"><h2>#{} {}</h2><p><span class=\"status\">{}</span> \
             <span class=\"meta\">requester {} · assignee {} · external_id {} · tags {}</span></p>",
            ticket.id,
            escape(&ticket.subject),
            escape(&ticket.status),
            name(ticket.requester_id).unwrap_or_else(|| "unknown".into()),
            ticket.assignee_id.and_then(name).unwrap_or_else(|| "—".into()),
            escape(ticket.external_id.as_deref().unwrap_or("—")),
            escape(&ticket.tags.join(", ")),
        ));
        for comment in &ticket.comments {
            // HTML comments show as text plus their source: rendering a customer's HTML here would
            // let it run scripts in the page.
            let source = comment.html_body.as_deref().map(|h| {
                format!("<details class=\"meta\"><summary>HTML</summary><code>{}</code></details>", escape(h))
            });
            html.push_str(&format!(
                "<div class=\"comment{}\"><div class=\"meta\">{} · {} · {}</div>{}{}</div>",
                if comment.public { "" } else { " internal" },
                if comment.public { "public reply" } else { "internal note" },
                name(comment.author_id).unwrap_or_else(|| "unknown".into()),
                escape(&comment.created_at),
                escape(&comment.body),
                source.unwrap_or_default(),
            ));
        }
        html.push_str("</div>");
    }
    html.push_str("</body></html>");
    html
}

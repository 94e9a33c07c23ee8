//! The workbook's Ports menu: the ports the learner's sandbox listens on, each opening its web
//! preview in a tab of its own, and any other port by number. The list is read when the menu
//! opens (a service started a moment ago shows up on the next open). Without the page's script
//! the form still works: it is a plain GET to `/preview`.

use leptos::prelude::*;

use crate::error::AppResult;

/// The TCP ports the learner's sandbox listens on that a preview reaches.
#[server(endpoint = "ports")]
pub async fn listening_ports() -> AppResult<Vec<u16>> {
    let (services, viewer) = crate::services::learner().await?;
    services.listening_ports(&viewer.learner_id).await
}

#[component]
pub fn PortsMenu() -> impl IntoView {
    let ports = Action::new(|_: &()| listening_ports());
    let toggled = move |_| {
        ports.dispatch(());
    };
    view! {
        <details class="ports-menu" on:toggle=toggled>
            <summary>"Ports"</summary>
            <div class="ports-body">
                {move || match ports.value().get() {
                    None => view! { <p class="muted">"Looking…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="muted">"Nothing in your sandbox listens on a TCP port yet."</p>
                    }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="ports-list">
                            {list.into_iter().map(|port| view! {
                                <li>
                                    <a href=format!("/preview/{port}/") target="_blank" rel="noopener" class="preview-link">
                                        {format!("Port {port}")}
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
                <form action="/preview" method="get" target="_blank" class="ports-other">
                    <label>"Other port " <input type="number" name="port" min="1" max="65535" required/></label>
                    <button type="submit" class="button small">"Open"</button>
                </form>
            </div>
        </details>
    }
}

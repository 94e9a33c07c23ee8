//! The workbook's Ports menu: the ports the learner's sandbox listens on, each opening its web
//! preview in a tab of its own, and any other port by number. The list is read when the menu
//! opens (a service started a moment ago shows up on the next open). Without the page's script
//! the form still works: it is a plain GET to `/preview`.
//!
//! A port can be shared: its link opens the preview for anyone who has it, without signing in,
//! until the learner stops sharing it.

use leptos::prelude::*;

use crate::error::AppResult;
use crate::services::SandboxPorts;

/// The TCP ports the learner's sandbox listens on that a preview reaches, and those shared.
#[server(endpoint = "ports")]
pub async fn listening_ports() -> AppResult<SandboxPorts> {
    let (services, viewer) = crate::services::learner().await?;
    services.listening_ports(&viewer.learner_id).await
}

/// Shares (or stops sharing) the learner's preview of `port`; the link's path when shared.
#[server(endpoint = "share-port")]
pub async fn share_port(port: u16, share: bool) -> AppResult<Option<String>> {
    let (services, viewer) = crate::services::learner().await?;
    services.share_port(&viewer.learner_id, port, share).await
}

#[component]
pub fn PortsMenu() -> impl IntoView {
    let ports = Action::new(|_: &()| listening_ports());
    let toggled = move |_| {
        ports.dispatch(());
    };
    let sharing = Action::new(|(port, share): &(u16, bool)| share_port(*port, *share));
    // A share changed: read the list again, so the menu shows the link (or no longer does).
    Effect::new(move |_| {
        if sharing.value().get().is_some() {
            ports.dispatch(());
        }
    });
    view! {
        <details class="ports-menu" on:toggle=toggled>
            <summary>{t!("ports")}</summary>
            <div class="ports-body">
                {move || match ports.value().get() {
                    None => view! { <p class="muted">{t!("ports-looking")}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error">{e.text()}</p> }.into_any(),
                    Some(Ok(list)) if list.listening.is_empty() && list.shared.is_empty() => view! {
                        <p class="muted">{t!("ports-none")}</p>
                    }.into_any(),
                    Some(Ok(list)) => {
                        let mut shown = list.listening.clone();
                        shown.extend(list.shared.iter().map(|s| s.port).filter(|p| !list.listening.contains(p)));
                        shown.sort_unstable();
                        view! {
                            <ul class="ports-list">
                                {shown.into_iter().map(|port| {
                                    let link = list.shared.iter().find(|s| s.port == port).map(|s| s.link.clone());
                                    view! { <PortRow port link sharing/> }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
                {move || match sharing.value().get() {
                    Some(Err(e)) => Some(view! { <p class="error">{e.text()}</p> }),
                    _ => None,
                }}
                <form action="/preview" method="get" target="_blank" class="ports-other">
                    <label>{t!("ports-other")} " " <input type="number" name="port" min="1" max="65535" required/></label>
                    <button type="submit" class="button small">{t!("ports-open")}</button>
                </form>
            </div>
        </details>
    }
}

/// One port: its preview link, and its share link or a button to make one.
#[component]
fn PortRow(port: u16, link: Option<String>, sharing: Action<(u16, bool), AppResult<Option<String>>>) -> impl IntoView {
    let shared = link.map(|link| {
        // Absolute, to copy and send: the page's own origin in front of the server's path.
        let absolute = {
            #[cfg(feature = "hydrate")]
            {
                web_sys::window().and_then(|w| w.location().origin().ok()).map(|o| format!("{o}{link}")).unwrap_or(link)
            }
            #[cfg(not(feature = "hydrate"))]
            {
                link
            }
        };
        view! {
            <div class="share-link">
                <input type="text" readonly value=absolute aria-label=t!("ports-share-link", port = port)
                    on:focus=|ev| {
                        #[cfg(feature = "hydrate")]
                        {
                            use wasm_bindgen::JsCast;
                            if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                input.select();
                            }
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = ev;
                    }/>
                <button type="button" class="button small" on:click=move |_| {
                    sharing.dispatch((port, false));
                }>{t!("ports-stop-sharing")}</button>
            </div>
        }
    });
    let is_shared = shared.is_some();
    view! {
        <li>
            <a href=format!("/preview/{port}/") target="_blank" rel="noopener" class="preview-link">
                {t!("ports-port", port = port)}
            </a>
            {(!is_shared).then(|| view! {
                <button type="button" class="button small" title=t!("ports-share-title")
                    on:click=move |_| { sharing.dispatch((port, true)); }>{t!("ports-share")}</button>
            })}
            {shared}
        </li>
    }
}

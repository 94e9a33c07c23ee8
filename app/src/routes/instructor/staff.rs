//! Staff accounts on the instructor's pages: a class's owner gives accounts a role in the class
//! (owner, instructor, assistant) or takes it away; the administrator makes accounts that sign in
//! with a login and a password.

use leptos::prelude::*;

use crate::class::{ClassRole, StaffAccountView};
use crate::error::AppResult;

#[server(endpoint = "instructor/class-staff")]
pub async fn load_class_staff(class: String) -> AppResult<Vec<StaffAccountView>> {
    let (services, who) = crate::services::staff().await?;
    services.class_staff(&who, &class).await
}

#[server(endpoint = "instructor/set-class-role", input = leptos::server_fn::codec::Json)]
pub async fn set_class_role(class: String, account: String, role: Option<ClassRole>) -> AppResult<()> {
    let (services, who) = crate::services::staff().await?;
    services.set_class_role(&who, &class, &account, role).await
}

#[server(endpoint = "instructor/make-staff-account")]
pub async fn make_staff_account(name: String, login: String, password: String) -> AppResult<StaffAccountView> {
    let (services, who) = crate::services::staff().await?;
    services.make_staff_account(&who, &name, &login, &password).await
}

const ROLES: [(&str, &str); 4] = [("", "no role"), ("owner", "owner"), ("instructor", "instructor"), ("assistant", "assistant")];

/// The class's staff, for its owner: every account, with a role to give or take away.
#[component]
pub fn ClassStaff(class: String) -> impl IntoView {
    let list = RwSignal::new(Vec::<StaffAccountView>::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    {
        let class = class.clone();
        leptos::task::spawn_local(async move {
            match load_class_staff(class).await {
                Ok(found) => list.set(found),
                Err(e) => error.set(Some(e.text())),
            }
        });
    }
    let change = move |account: String, name: String, role: String| {
        let class = class.clone();
        let role = ClassRole::parse(&role);
        leptos::task::spawn_local(async move {
            match set_class_role(class, account.clone(), role).await {
                Ok(()) => {
                    error.set(None);
                    status.set(Some(match role {
                        Some(role) => format!("{name} is now {} of this class.", role.as_str()),
                        None => format!("{name} has no role in this class any more."),
                    }));
                    list.update(|l| l.iter_mut().filter(|a| a.id == account).for_each(|a| a.role = role));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    view! {
        <details class="class-staff">
            <summary>"Staff of this class"</summary>
            <p class="muted">
                "Owners and instructors run the class; assistants help in it (hands, messages, watching terminals). "
                "People who sign in with the school's account appear here after their first sign-in."
            </p>
            <table class="staff-table">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Login"</th><th scope="col">"Role"</th></tr></thead>
                <tbody>
                    <For each=move || list.get() key=|a| (a.id.clone(), a.role) let:a>
                        {
                            let (id, name) = (a.id.clone(), a.name.clone());
                            let current = a.role.map_or("", ClassRole::as_str);
                            let change = change.clone();
                            view! {
                                <tr data-account=a.id.clone()>
                                    <td>{a.name.clone()}</td>
                                    <td>{a.login.clone().unwrap_or_else(|| "school account".into())}</td>
                                    <td>
                                        <select
                                            aria-label=format!("Role of {}", a.name)
                                            on:change=move |e| change(id.clone(), name.clone(), event_target_value(&e))
                                        >
                                            {ROLES.iter().map(|(value, label)| view! {
                                                <option value=*value selected=*value == current>{*label}</option>
                                            }).collect_view()}
                                        </select>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            {move || status.get().map(|s| view! { <p class="muted" role="status">{s}</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </details>
    }
}

/// Making staff accounts, for the administrator.
#[component]
pub fn StaffAccounts() -> impl IntoView {
    let (name, login, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let made = RwSignal::new(Vec::<StaffAccountView>::new());
    let make = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (n, l, p) = (name.get_untracked(), login.get_untracked(), password.get_untracked());
        leptos::task::spawn_local(async move {
            match make_staff_account(n, l, p).await {
                Ok(account) => {
                    error.set(None);
                    name.set(String::new());
                    login.set(String::new());
                    password.set(String::new());
                    made.update(|m| m.push(account));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    view! {
        <details class="staff-accounts card">
            <summary>"Staff accounts"</summary>
            <p class="muted">
                "An account signs in on this page with its login and password, makes classes of its own, and runs or helps in "
                "the classes whose owners give it a role. Its password is kept only as an argon2 hash."
            </p>
            <form class="inline" on:submit=make>
                <label>"Staff member's name" <input required maxlength="60" bind:value=name/></label>
                <label>"Their login" <input required maxlength="40" autocomplete="off" bind:value=login/></label>
                <label>"Their password" <input required type="password" minlength="12" autocomplete="new-password" bind:value=password/></label>
                <button class="button small" type="submit">"Make account"</button>
            </form>
            <ul>
                <For each=move || made.get() key=|a| a.id.clone() let:a>
                    <li>{format!("{} can now sign in as {}.", a.name, a.login.clone().unwrap_or_default())}</li>
                </For>
            </ul>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </details>
    }
}

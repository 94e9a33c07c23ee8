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

/// A role's value in the form, and its name's message.
const ROLES: [(&str, &str); 4] =
    [("", "role-none"), ("owner", "role-owner"), ("instructor", "role-instructor"), ("assistant", "role-assistant")];

fn role_name(value: &str) -> String {
    match value {
        "owner" => t!("role-owner"),
        "instructor" => t!("role-instructor"),
        "assistant" => t!("role-assistant"),
        _ => t!("role-none"),
    }
}

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
                        Some(role) => t!("staff-role-given", name = name, role = role_name(role.as_str())),
                        None => t!("staff-role-taken", name = name),
                    }));
                    list.update(|l| l.iter_mut().filter(|a| a.id == account).for_each(|a| a.role = role));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    view! {
        <details class="class-staff">
            <summary>{t!("staff-of-class")}</summary>
            <p class="muted">
                {t!("staff-of-class-intro")}
            </p>
            <table class="staff-table">
                <thead><tr><th scope="col">{t!("name")}</th><th scope="col">{t!("instructor-login")}</th><th scope="col">{t!("role")}</th></tr></thead>
                <tbody>
                    <For each=move || list.get() key=|a| (a.id.clone(), a.role) let:a>
                        {
                            let (id, name) = (a.id.clone(), a.name.clone());
                            let current = a.role.map_or("", ClassRole::as_str);
                            let change = change.clone();
                            view! {
                                <tr data-account=a.id.clone()>
                                    <td>{a.name.clone()}</td>
                                    <td>{a.login.clone().unwrap_or_else(|| t!("staff-school-account"))}</td>
                                    <td>
                                        <select
                                            aria-label=t!("staff-role-of", name = a.name.clone())
                                            on:change=move |e| change(id.clone(), name.clone(), event_target_value(&e))
                                        >
                                            {ROLES.iter().map(|(value, _)| view! {
                                                <option value=*value selected=*value == current>{role_name(value)}</option>
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
            <summary>{t!("staff-accounts")}</summary>
            <p class="muted">
                {t!("staff-accounts-intro")}
            </p>
            <form class="inline" on:submit=make>
                <label>{t!("staff-name")} <input required maxlength="60" bind:value=name/></label>
                <label>{t!("staff-login")} <input required maxlength="40" autocomplete="off" bind:value=login/></label>
                <label>{t!("staff-password")} <input required type="password" minlength="12" autocomplete="new-password" bind:value=password/></label>
                <button class="button small" type="submit">{t!("staff-make")}</button>
            </form>
            <ul>
                <For each=move || made.get() key=|a| a.id.clone() let:a>
                    <li>{t!("staff-made", name = a.name.clone(), login = a.login.clone().unwrap_or_default())}</li>
                </For>
            </ul>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </details>
    }
}

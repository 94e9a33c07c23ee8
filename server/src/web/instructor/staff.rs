//! Staff accounts and their roles per class: the administrator makes accounts that sign in with
//! a login and a password (accounts of people who sign in at the school's provider make
//! themselves); a class's owner gives accounts a role in it (owner, instructor, assistant) or
//! takes it away.

use app::class::{ClassRole, StaffAccountView, StaffView};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::identity::password;
use crate::store::StaffAccount;
use crate::web::AppState;
use crate::web::auth::{Instructor, Staff};
use crate::web::error::ApiError;

/// Staff accounts with a role in one class.
const MAX_PER_CLASS: usize = 50;

fn view(account: StaffAccount, role: Option<ClassRole>) -> StaffAccountView {
    StaffAccountView { id: account.id, name: account.name, login: account.login, role }
}

/// Every staff account, with its role in `class` (for the class's owner to choose from).
pub async fn list(state: &AppState, who: &StaffView, class: &str) -> Result<Vec<StaffAccountView>, ApiError> {
    super::allowed(who.owns(class))?;
    super::dashboard::class(state, class).await?;
    let roles: std::collections::HashMap<_, _> = state.store.class_staff(class).await?.into_iter().collect();
    Ok(state
        .store
        .staff_accounts()
        .await?
        .into_iter()
        .map(|a| {
            let role = roles.get(&a.id).copied();
            view(a, role)
        })
        .collect())
}

/// Gives `account` a role in `class`, or takes it away. An owner does not change their own role
/// (another owner or the administrator does), so a class is never left without its owner by
/// mistake.
pub async fn set_role(state: &AppState, who: &StaffView, class: &str, account: &str, role: Option<ClassRole>) -> Result<(), ApiError> {
    super::allowed(who.owns(class))?;
    super::dashboard::class(state, class).await?;
    if who.account.as_deref() == Some(account) {
        return Err(ApiError::BadRequest(app::t!("srv-own-role")));
    }
    state.store.staff_account(account).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-staff-account")))?;
    let staff = state.store.class_staff(class).await?;
    if role.is_some() && staff.len() >= MAX_PER_CLASS && !staff.iter().any(|(id, _)| id == account) {
        return Err(ApiError::BadRequest(app::t!("srv-max-staff", max = MAX_PER_CLASS)));
    }
    state.store.set_class_role(class, account, role).await?;
    tracing::info!(class, account, role = role.map_or("none", ClassRole::as_str), "class role changed");
    Ok(())
}

/// A staff account with a login and a password (the administrator's to make).
pub async fn make(state: &AppState, who: &StaffView, name: &str, login: &str, secret: &str) -> Result<StaffAccountView, ApiError> {
    super::allowed(who.is_administrator())?;
    password::check_new(login, secret).map_err(ApiError::BadRequest)?;
    let hash = password::hash(secret).map_err(|e| {
        tracing::error!("{e}");
        ApiError::Unavailable(app::t!("srv-password-failed"))
    })?;
    let account = state.store.create_staff_account(name, Some(login), Some(&hash), None).await?;
    tracing::info!(account = %account.id, "staff account made");
    Ok(view(account, None))
}

pub async fn list_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(class): Path<String>,
) -> Result<Json<Vec<StaffAccountView>>, ApiError> {
    Ok(Json(list(&state, &who, &class).await?))
}

#[derive(Deserialize)]
pub struct RoleChange {
    account: String,
    /// `null`: no role in the class any more.
    role: Option<ClassRole>,
}

pub async fn set_role_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(class): Path<String>,
    change: super::LaterJson<RoleChange>,
) -> Result<axum::http::StatusCode, ApiError> {
    super::allowed(who.owns(&class))?;
    let change = super::body(change)?;
    set_role(&state, &who, &class, &change.account, change.role).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct NewAccount {
    name: String,
    login: String,
    password: String,
}

/// The administrator's (the extractor refuses anyone else before the body is read).
pub async fn make_route(
    State(state): State<AppState>,
    _: Instructor,
    Json(body): Json<NewAccount>,
) -> Result<Json<StaffAccountView>, ApiError> {
    Ok(Json(make(&state, &StaffView::instructor(), &body.name, &body.login, &body.password).await?))
}

//! Settings: the user's profile and API tokens; for owners and admins, users and pick lists.

use super::{Errors, render, render_with, see_other};
use crate::AppState;
use crate::auth::{self, CurrentUser, Identity};
use crate::error::PageError;
use crate::params::Params;
use crate::views::Layout;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kith_domain::picklist::{ListKind, ListValue, PickLists};
use kith_domain::validation::Checker;
use kith_domain::{Email, Invalid, Role, UserId};
use kith_store::tokens::{self, ApiToken};
use kith_store::users::{self, NewUser, User};
use kith_store::{StoreError, picklists};

#[derive(Template)]
#[template(path = "settings.html")]
pub(crate) struct SettingsPage {
    layout: Layout,
    name: String,
    time_zone: String,
    tokens: Vec<TokenRow>,
    new_token: String,
    users: Vec<User>,
    lists: PickLists,
    errors: Errors,
    roles: Vec<&'static str>,
    current_user_id: i64,
    /// When the user's calendar feed was made; empty without one.
    feed_made: String,
    /// A feed address just made, shown this once.
    pub(crate) new_feed_url: String,
}

impl SettingsPage {
    fn zones(&self) -> impl Iterator<Item = &'static str> {
        kith_domain::tenant::time_zone_names()
    }
}

impl SettingsPage {
    fn list_kinds(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_type", "Client types"),
            ("lifecycle", "Lifecycle stages"),
            ("industry", "Industries"),
            ("deal_source", "Deal sources"),
            ("activity_type", "Activity types"),
        ]
    }

    fn values(&self, kind: &str) -> Vec<&ListValue> {
        ListKind::parse(kind)
            .map(|k| self.lists.of(k).collect())
            .unwrap_or_default()
    }
}

struct TokenRow {
    id: i64,
    name: String,
    scope: &'static str,
    created: String,
    last_used: String,
}

pub(crate) async fn page(
    state: &AppState,
    me: &Identity,
    new_token: String,
    errors: Errors,
) -> Result<SettingsPage, PageError> {
    let layout = Layout::new(me, "settings");
    let tokens: Vec<TokenRow> = tokens::list(&state.db, me.tenant(), me.user_id())
        .await?
        .iter()
        .map(|t: &ApiToken| TokenRow {
            id: t.id,
            name: t.name.clone(),
            scope: if t.read_only {
                "read only"
            } else {
                "read and write"
            },
            created: layout.time(&t.created_at),
            last_used: t
                .last_used_at
                .as_ref()
                .map(|at| layout.time(at))
                .unwrap_or_else(|| "never".into()),
        })
        .collect();
    let admin = me.may_administer().is_ok();
    let users = if admin {
        users::list(&state.db, me.tenant()).await?
    } else {
        Vec::new()
    };
    let lists = picklists::load(&state.db, me.tenant()).await?;
    Ok(SettingsPage {
        layout,
        name: me.user.name.clone(),
        time_zone: me.user.time_zone.clone(),
        tokens,
        new_token,
        users,
        lists,
        errors,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        current_user_id: me.user.id,
        feed_made: super::calendar::made_at(state, me)
            .await?
            .unwrap_or_default(),
        new_feed_url: String::new(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Response, PageError> {
    render(&page(&state, &me, String::new(), Errors::default()).await?)
}

/// Re-renders the page with the problems found, or goes back to it when all went well.
async fn finish(
    state: &AppState,
    me: &Identity,
    result: Result<(), StoreError>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(see_other("/settings")),
        Err(StoreError::Invalid(invalid)) => render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(state, me, String::new(), invalid.into()).await?,
        ),
        Err(StoreError::InUse(message)) => {
            let errors = Errors::from(Invalid::one("list", message));
            render_with(
                StatusCode::CONFLICT,
                &page(state, me, String::new(), errors).await?,
            )
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn update_profile(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Params::parse(&body);
    let mut check = Checker::default();
    let name = check.check(
        "name",
        kith_domain::text::required_line(form.raw("name").unwrap_or_default(), 100),
    );
    let zone = check.check(
        "time_zone",
        kith_domain::tenant::parse_time_zone(form.raw("time_zone").unwrap_or_default()),
    );
    let result = match (check.finish(), name, zone) {
        (Ok(()), Some(name), Some(zone)) => {
            users::update_profile(&state.db, me.tenant(), me.user_id(), &name, &zone).await
        }
        (Err(invalid), ..) => Err(invalid.into()),
        _ => Ok(()),
    };
    finish(&state, &me, result).await
}

pub async fn create_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Params::parse(&body);
    let name = match kith_domain::text::required_line(form.raw("name").unwrap_or_default(), 100) {
        Ok(name) => name,
        Err(message) => {
            return finish(&state, &me, Err(Invalid::one("token_name", message).into())).await;
        }
    };
    // A viewer's token can only ever read.
    let read_only = form.checked("read_only") || me.may_write().is_err();
    let token = auth::create_api_token(&state.db, &me.user, &name, read_only).await?;
    tracing::info!(
        tenant_id = me.tenant().0,
        user_id = me.user.id,
        "API token created"
    );
    render(&page(&state, &me, token, Errors::default()).await?)
}

pub async fn delete_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    tokens::delete(&state.db, me.tenant(), me.user_id(), id).await?;
    Ok(see_other("/settings"))
}

pub async fn create_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let result = match parse_new_user(&form, &me) {
        Ok(mut user) => {
            // A new user starts in the workspace's time zone, not the admin's.
            user.time_zone = kith_store::tenants::get(&state.db, me.tenant())
                .await?
                .time_zone;
            add_user(&state, &me, &user).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    finish(&state, &me, result).await
}

fn parse_new_user(form: &Params, me: &Identity) -> Result<NewUser, Invalid> {
    let mut check = Checker::default();
    let email = check.check(
        "user_email",
        Email::parse(form.raw("email").unwrap_or_default()),
    );
    let name = check.check(
        "user_name",
        kith_domain::text::required_line(form.raw("name").unwrap_or_default(), 100),
    );
    let password = form.raw("password").unwrap_or_default();
    check.check("user_password", auth::password::check(password));
    let role = check.check(
        "user_role",
        form.raw("role").unwrap_or_default().parse::<Role>(),
    );
    if role == Some(Role::Owner) && me.role() != Role::Owner {
        check.add("user_role", "only an owner can add another owner");
    }
    check.finish()?;
    let password_hash =
        auth::password::hash(password).map_err(|e| Invalid::one("user_password", e))?;
    Ok(NewUser {
        email: email.ok_or_else(|| Invalid::one("user_email", "is required"))?,
        name: name.unwrap_or_default(),
        password_hash,
        role: role.unwrap_or(Role::Viewer),
        time_zone: String::new(),
    })
}

async fn add_user(state: &AppState, me: &Identity, user: &NewUser) -> Result<(), StoreError> {
    let mut tx = state.db.begin().await?;
    let id: UserId = users::create(&mut tx, me.tenant(), user)
        .await
        .map_err(|e| match e {
            StoreError::Invalid(invalid) => StoreError::Invalid(Invalid(
                invalid
                    .0
                    .into_iter()
                    .map(|f| kith_domain::FieldError::new(format!("user_{}", f.field), f.message))
                    .collect(),
            )),
            other => other,
        })?;
    tx.commit().await?;
    tracing::info!(
        tenant_id = me.tenant().0,
        user_id = id.0,
        role = user.role.as_str(),
        "user added"
    );
    Ok(())
}

pub async fn add_list_value(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let Some(kind) = form.get("list").and_then(ListKind::parse) else {
        return Err(PageError::BadRequest("Choose which list to add to.".into()));
    };
    let result = match kith_domain::text::required_line(form.raw("label").unwrap_or_default(), 100)
    {
        Ok(label) => add_value(&state, &me, kind, &label).await,
        Err(message) => Err(Invalid::one("label", message).into()),
    };
    finish(&state, &me, result).await
}

async fn add_value(
    state: &AppState,
    me: &Identity,
    kind: ListKind,
    label: &str,
) -> Result<(), StoreError> {
    let lists = picklists::load(&state.db, me.tenant()).await?;
    if lists.find(kind, label).is_some() {
        return Err(Invalid::one("label", format!("\"{label}\" is already in this list")).into());
    }
    let mut tx = state.db.begin().await?;
    picklists::ensure(&mut tx, me.tenant(), kind, label).await?;
    tx.commit().await
}

pub async fn rename_list_value(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let result = match kith_domain::text::required_line(form.raw("label").unwrap_or_default(), 100)
    {
        Ok(label) => rename_value(&state, &me, id, &label).await,
        Err(message) => Err(Invalid::one("label", message).into()),
    };
    finish(&state, &me, result).await
}

async fn rename_value(
    state: &AppState,
    me: &Identity,
    id: i64,
    label: &str,
) -> Result<(), StoreError> {
    let mut tx = state.db.begin().await?;
    picklists::rename(&mut tx, me.tenant(), id, label).await?;
    tx.commit().await
}

pub async fn delete_list_value(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let mut tx = state.db.begin().await?;
    let result = picklists::delete(&mut tx, me.tenant(), id).await;
    let result = tx.finish(result).await;
    finish(&state, &me, result).await
}

/// The settings forms post to their own URLs; reloading one of those (or following it back)
/// lands on the settings page instead of an error.
pub async fn back_to_settings() -> Response {
    see_other("/settings")
}

pub async fn change_role(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let target = users::get(&state.db, me.tenant(), UserId(id)).await?;
    let form = Params::parse(&body);
    let role: Role = match form.raw("role").unwrap_or_default().parse() {
        Ok(role) => role,
        Err(message) => {
            return finish(&state, &me, Err(Invalid::one("user_role", message).into())).await;
        }
    };
    // Only an owner makes or unmakes owners.
    if (role == Role::Owner || target.role() == Role::Owner) && me.role() != Role::Owner {
        return Err(PageError::Forbidden(
            "Only an owner can make someone an owner or change an owner's role.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let result = users::set_role(&mut tx, me.tenant(), UserId(id), role).await;
    let result = tx.finish(result).await;
    if result.is_ok() {
        tracing::info!(
            tenant_id = me.tenant().0,
            user_id = id,
            role = role.as_str(),
            "role changed"
        );
    }
    finish(&state, &me, result).await
}

pub async fn remove_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let target = users::get(&state.db, me.tenant(), UserId(id)).await?;
    if target.role() == Role::Owner && me.role() != Role::Owner {
        return Err(PageError::Forbidden(
            "Only an owner can remove an owner.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let result = users::remove(&mut tx, me.tenant(), UserId(id)).await;
    let result = tx.finish(result).await;
    if result.is_ok() {
        tracing::info!(tenant_id = me.tenant().0, user_id = id, "user removed");
    }
    finish(&state, &me, result).await
}

pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Params::parse(&body);
    let current = form.raw("current_password").unwrap_or_default();
    let new = form.raw("new_password").unwrap_or_default();
    let stored = users::password_hash(&state.db, me.tenant(), me.user_id()).await?;
    if !auth::password::verify(current, &stored) {
        return finish(
            &state,
            &me,
            Err(Invalid::one("current_password", "is not your current password").into()),
        )
        .await;
    }
    if let Err(message) = auth::password::check(new) {
        return finish(
            &state,
            &me,
            Err(Invalid::one("new_password", message).into()),
        )
        .await;
    }
    let hash = auth::password::hash(new).map_err(PageError::Internal)?;
    let keep = match &me.via {
        auth::Via::Session { token_hash, .. } => Some(token_hash.as_str()),
        auth::Via::Token { .. } => None,
    };
    let mut tx = state.db.begin().await?;
    users::set_password(&mut tx, me.tenant(), me.user_id(), &hash, keep).await?;
    tx.commit().await?;
    tracing::info!(
        tenant_id = me.tenant().0,
        user_id = me.user.id,
        "password changed; other sessions ended"
    );
    Ok(see_other("/settings"))
}

//! First run: with no users yet, `/setup` creates the first workspace and its owner.

use super::{Errors, render, render_with};
use crate::error::PageError;
use crate::params::Params;
use crate::{AppState, auth};
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kith_domain::tenant::NewTenant;
use kith_domain::validation::Checker;
use kith_domain::{Email, Invalid, Role};
use kith_store::users::NewUser;
use kith_store::{tenants, users};

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    values: SetupValues,
    errors: Errors,
}

impl SetupPage {
    fn zones(&self) -> impl Iterator<Item = &'static str> {
        kith_domain::tenant::time_zone_names()
    }
}

#[derive(Default)]
struct SetupValues {
    workspace: String,
    currency: String,
    country: String,
    time_zone: String,
    name: String,
    email: String,
}

pub async fn form(State(state): State<AppState>) -> Result<Response, PageError> {
    if users::count_all(&state.db).await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    let values = SetupValues {
        currency: "USD".into(),
        country: "US".into(),
        time_zone: "UTC".into(),
        ..Default::default()
    };
    render(&SetupPage {
        values,
        errors: Errors::default(),
    })
}

pub async fn submit(State(state): State<AppState>, body: Bytes) -> Result<Response, PageError> {
    if users::count_all(&state.db).await? > 0 {
        return Err(PageError::Forbidden(
            "Kith is already set up. Sign in instead.".into(),
        ));
    }
    let form = Params::parse(&body);
    let values = SetupValues {
        workspace: form.get("workspace").unwrap_or_default().into(),
        currency: form.get("currency").unwrap_or_default().into(),
        country: form.get("country").unwrap_or_default().into(),
        time_zone: form.get("time_zone").unwrap_or_default().into(),
        name: form.get("name").unwrap_or_default().into(),
        email: form.get("email").unwrap_or_default().into(),
    };
    let password = form.raw("password").unwrap_or_default();

    let (tenant, owner) = match parse(&values, password) {
        Ok(parsed) => parsed,
        Err(invalid) => {
            return render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    values,
                    errors: invalid.into(),
                },
            );
        }
    };

    // The setup mark makes a second, concurrent setup fail instead of adding a workspace.
    let mut tx = state.db.begin().await?;
    tenants::mark_set_up(&mut tx).await.map_err(|e| match e {
        kith_store::StoreError::InUse(message) => PageError::Forbidden(message),
        other => other.into(),
    })?;
    let tenant_id = tenants::create(&mut tx, &tenant).await?;
    let user_id = users::create(&mut tx, tenant_id, &owner).await?;
    tx.commit().await?;
    tracing::info!(
        tenant_id = tenant_id.0,
        user_id = user_id.0,
        "first workspace and owner created"
    );

    let user = users::get(&state.db, tenant_id, user_id).await?;
    let cookie = auth::start_session(&state, &user).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

fn parse(values: &SetupValues, password: &str) -> Result<(NewTenant, NewUser), Invalid> {
    let tenant = NewTenant::parse(
        &values.workspace,
        &values.currency,
        &values.country,
        &values.time_zone,
    );
    let mut check = Checker::default();
    let email = check.check("email", Email::parse(&values.email));
    let name = check.check("name", kith_domain::text::required_line(&values.name, 100));
    check.check("password", auth::password::check(password));
    let tenant_errors = tenant
        .as_ref()
        .err()
        .map(|e| e.0.clone())
        .unwrap_or_default();
    for error in tenant_errors {
        let field = if error.field == "name" {
            "workspace".to_owned()
        } else {
            error.field
        };
        check.add(&field, error.message);
    }
    check.finish()?;

    let password_hash = auth::password::hash(password).map_err(|e| Invalid::one("password", e))?;
    let tenant = tenant?;
    let owner = NewUser {
        email: email.ok_or_else(|| Invalid::one("email", "is required"))?,
        name: name.unwrap_or_default(),
        password_hash,
        role: Role::Owner,
        time_zone: tenant.time_zone.clone(),
    };
    Ok((tenant, owner))
}

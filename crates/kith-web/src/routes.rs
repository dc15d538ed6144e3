//! Every route Kith serves, registered through a recorder so that tests can walk the full list
//! (tenant isolation, OpenAPI coverage) and can never miss a route added later.

use crate::{AppState, api, assets, auth, pages};
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodFilter;
use axum::routing::{MethodRouter, on};
use std::collections::BTreeMap;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
}

struct Routes {
    table: Vec<RouteInfo>,
    routers: BTreeMap<&'static str, MethodRouter<AppState>>,
}

impl Routes {
    fn new() -> Self {
        Self {
            table: Vec::new(),
            routers: BTreeMap::new(),
        }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let router = on(filter, handler);
        let merged = match self.routers.remove(path) {
            Some(existing) => existing.merge(router),
            None => router,
        };
        self.routers.insert(path, merged);
        self.table.push(RouteInfo { method, path });
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::GET, path, handler)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::POST, path, handler)
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::PUT, path, handler)
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::PATCH, path, handler)
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::DELETE, path, handler)
    }
}

fn routes() -> Routes {
    Routes::new()
        // Operations and assets
        .get("/healthz", pages::ops::healthz)
        .get("/calendar/{file}", pages::calendar::feed)
        .post("/settings/calendar-feed", pages::calendar::create)
        .get("/settings/calendar-feed", pages::settings::back_to_settings)
        .post("/settings/calendar-feed/delete", pages::calendar::revoke)
        .get("/readyz", pages::ops::readyz)
        .get("/assets/{file}", assets::serve)
        // Sign-in
        .get("/setup", pages::setup::form)
        .post("/setup", pages::setup::submit)
        .get("/login", pages::login::form)
        .post("/login", pages::login::submit)
        .post("/logout", pages::login::logout)
        // Pages
        .get("/", pages::home::show)
        .get("/search", pages::search::show)
        .get("/crm/clients", pages::clients::list)
        .post("/crm/clients", pages::clients::create)
        .get("/crm/clients/new", pages::clients::new)
        .get("/crm/clients/options", pages::clients::options)
        .get("/crm/clients/{id}", pages::clients::show)
        .post("/crm/clients/{id}", pages::clients::update)
        .get("/crm/clients/{id}/edit", pages::clients::edit)
        .post("/crm/clients/{id}/delete", pages::clients::delete)
        .get("/crm/pipeline", pages::pipeline::board)
        .get("/crm/pipeline/stages.css", pages::pipeline::stage_css)
        .get("/crm/pipeline/forecast", pages::forecast::show)
        .get("/crm/activities", pages::activities::list)
        .get("/crm/activities/new", pages::activities::new)
        .post("/crm/activities", pages::activities::create)
        .get("/crm/activities/{id}", pages::activities::show)
        .post("/crm/activities/{id}", pages::activities::update)
        .get("/crm/activities/{id}/edit", pages::activities::edit)
        .post("/crm/activities/{id}/complete", pages::activities::complete)
        .post("/crm/activities/{id}/reopen", pages::activities::reopen)
        .post("/crm/activities/{id}/delete", pages::activities::delete)
        .get("/crm/deals/new", pages::deal_form::new)
        .post("/crm/deals", pages::deal_form::create)
        .get("/crm/deals/{id}", pages::pipeline::show)
        .post("/crm/deals/{id}", pages::deal_form::update)
        .get("/crm/deals/{id}/edit", pages::deal_form::edit)
        .post("/crm/deals/{id}/delete", pages::deal_form::delete)
        .post("/crm/deals/{id}/move", pages::pipeline::move_deal)
        .post("/crm/deals/{id}/quote", pages::quotes::from_deal)
        .get("/crm/quotes", pages::quotes::list)
        .post("/crm/quotes", pages::quotes::create)
        .get("/crm/quotes/new", pages::quotes::new)
        .get("/crm/quotes/deal-options", pages::quotes::deal_options)
        .get("/crm/quotes/{id}", pages::quotes::show)
        .post("/crm/quotes/{id}", pages::quotes::update)
        .get("/crm/quotes/{id}/edit", pages::quotes::edit)
        .get("/crm/quotes/{id}/print", pages::quotes::print)
        .post("/crm/quotes/{id}/status", pages::quotes::set_status)
        .post("/crm/quotes/{id}/delete", pages::quotes::delete)
        .get("/crm/contacts", pages::contacts::list)
        .post("/crm/contacts", pages::contacts::create)
        .get("/crm/contacts/new", pages::contacts::new)
        .get("/crm/contacts/{id}", pages::contacts::show)
        .post("/crm/contacts/{id}", pages::contacts::update)
        .get("/crm/contacts/{id}/edit", pages::contacts::edit)
        .post("/crm/contacts/{id}/delete", pages::contacts::delete)
        .get("/settings", pages::settings::show)
        .post("/settings/profile", pages::settings::update_profile)
        .get("/settings/profile", pages::settings::back_to_settings)
        .post("/settings/tokens", pages::settings::create_token)
        .get("/settings/tokens", pages::settings::back_to_settings)
        .post(
            "/settings/tokens/{id}/delete",
            pages::settings::delete_token,
        )
        .post("/settings/users", pages::settings::create_user)
        .get("/settings/users", pages::settings::back_to_settings)
        .post("/settings/users/{id}/role", pages::settings::change_role)
        .post("/settings/users/{id}/delete", pages::settings::remove_user)
        .post("/settings/password", pages::settings::change_password)
        .get("/settings/password", pages::settings::back_to_settings)
        .post("/settings/lists", pages::settings::add_list_value)
        .get("/settings/lists", pages::settings::back_to_settings)
        .post("/settings/lists/{id}", pages::settings::rename_list_value)
        .post(
            "/settings/lists/{id}/delete",
            pages::settings::delete_list_value,
        )
        .get("/settings/stages", pages::stages::show)
        .post("/settings/stages", pages::stages::create)
        .post("/settings/stages/{id}", pages::stages::update)
        .post("/settings/stages/{id}/move", pages::stages::move_stage)
        .post("/settings/stages/{id}/delete", pages::stages::delete)
        // JSON API
        .get("/api/v1/openapi.json", api::openapi::document)
        .get("/api/v1/clients", api::clients::list)
        .post("/api/v1/clients", api::clients::create)
        .get("/api/v1/clients/{id}", api::clients::get)
        .patch("/api/v1/clients/{id}", api::clients::update)
        .delete("/api/v1/clients/{id}", api::clients::delete)
        .get("/api/v1/contacts", api::contacts::list)
        .post("/api/v1/contacts", api::contacts::create)
        .get("/api/v1/contacts/{id}", api::contacts::get)
        .patch("/api/v1/contacts/{id}", api::contacts::update)
        .delete("/api/v1/contacts/{id}", api::contacts::delete)
        .get("/api/v1/activities", api::activities::list)
        .post("/api/v1/activities", api::activities::create)
        .get("/api/v1/activities/{id}", api::activities::get)
        .patch("/api/v1/activities/{id}", api::activities::update)
        .delete("/api/v1/activities/{id}", api::activities::delete)
        .post(
            "/api/v1/activities/{id}/complete",
            api::activities::complete,
        )
        .post("/api/v1/activities/{id}/reopen", api::activities::reopen)
        .get("/api/v1/deals", api::deals::list)
        .post("/api/v1/deals", api::deals::create)
        .post("/api/v1/deals/bulk-stage", api::deals::bulk_stage)
        .get("/api/v1/deals/{id}", api::deals::get)
        .patch("/api/v1/deals/{id}", api::deals::update)
        .delete("/api/v1/deals/{id}", api::deals::delete)
        .post("/api/v1/deals/{id}/quote", api::quotes::from_deal)
        .get("/api/v1/quotes", api::quotes::list)
        .post("/api/v1/quotes", api::quotes::create)
        .get("/api/v1/quotes/{id}", api::quotes::get)
        .patch("/api/v1/quotes/{id}", api::quotes::update)
        .delete("/api/v1/quotes/{id}", api::quotes::delete)
        .get("/api/v1/pipeline/board", api::deals::board)
        .get("/api/v1/pipeline/forecast", api::forecast::forecast)
        .get("/api/v1/stages", api::stages::list)
        .post("/api/v1/stages", api::stages::create)
        .put("/api/v1/stages/order", api::stages::reorder)
        .get("/api/v1/stages/{id}", api::stages::get)
        .patch("/api/v1/stages/{id}", api::stages::update)
        .delete("/api/v1/stages/{id}", api::stages::delete)
        .get("/api/v1/search", api::search::search)
}

/// Every route Kith serves, in registration order.
pub fn route_table() -> Vec<RouteInfo> {
    routes().table
}

/// Builds the whole application.
pub fn app(state: AppState) -> Router {
    let routes = routes();
    let mut router: Router<AppState> = Router::new();
    for (path, method_router) in routes.routers {
        router = router.route(path, method_router);
    }

    router
        .fallback(pages::ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(axum::middleware::from_fn(api::problems))
        .layer(axum::middleware::from_fn(pages::ops::security_headers))
        .layer(CatchPanicLayer::custom(pages::ops::panicked))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(crate::views::request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}

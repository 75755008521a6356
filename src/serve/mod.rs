//! `nsgsim serve`: the live, offline classroom. A local web server shows the JIT page, the NSGs,
//! the topology, a flow tester, the virtual clock and the activity log of one scenario, and lets a
//! class act on it in the browser; behind the page is a JSON API a trainer can script with `curl`
//! (docs/serve.md).
//!
//! A thin layer like `cli`: the engine (`sim`, `jit`, `path`) does the work and returns data,
//! `report` renders it (the API's JSON is the CLI's `--format json`: `eval`, `jit status`, a
//! `run` step), and the scenario loader reads every action the class takes, exactly as if it had
//! been written in the file, so that "save as scenario" gives a file `nsgsim run` replays. Only
//! this module knows HTTP; it never prints (the command line does).
//!
//! Safe by default: it binds loopback unless told otherwise; it refuses requests whose `Host` or
//! `Origin` is not its own (DNS rebinding, other sites' pages); bodies are limited to 64 KiB; it
//! serves only its own embedded assets; a bad request is a 4xx JSON error naming the field; each
//! session (each browser tab that opens the page, each script that asks) has its own simulation,
//! and at most `max_sessions` live at once (the least recently used is forgotten).
//!
//! One thread serves every request (a current-thread tokio runtime): requests of all sessions
//! are answered one after the other, which keeps each simulation's steps in order without locks
//! held across waits; every operation is bounded (a step, a flow, the events due by a clock move).

mod assets;
mod body;
mod error;
mod guard;
mod lesson;
mod routes;
mod session;
mod sessions;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use axum::Router;
use serde_json::Value;

pub use error::ApiError;
use guard::HostGuard;
use lesson::Lesson;
use sessions::Sessions;

use crate::scenario::Scenario;
use crate::sim::Simulator;
use sessions::lock;

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub bind: SocketAddr,
    /// Host names the server answers to besides IP addresses and `localhost`.
    pub allowed_hosts: Vec<String>,
    /// The most sessions kept at once.
    pub max_sessions: usize,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The runtime or the connection loop failed.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// What every request can reach.
#[derive(Debug)]
struct App {
    lesson: Lesson,
    scenario_info: Value,
    sessions: Mutex<Sessions>,
    guard: HostGuard,
    /// A copy of the simulation at the start, made ahead of the next session or reset.
    spare: Mutex<Option<Simulator>>,
}

impl App {
    /// A copy of the lesson's simulation at the start, for a new session or a reset. Copying a
    /// 10,000-VM simulation (its topology and compiled NSGs) takes a few hundred milliseconds, so
    /// one copy is made ahead, on tokio's blocking pool, and the request only takes it; the next
    /// copy is made after. Without a spare (the first session, or two in quick succession) the
    /// copy is made on the spot.
    fn fresh_simulation(self: &Arc<App>) -> Simulator {
        let ready = lock(&self.spare).take();
        let sim = ready.unwrap_or_else(|| self.lesson.start.clone());
        let app = Arc::clone(self);
        drop(tokio::task::spawn_blocking(move || {
            let copy = app.lesson.start.clone();
            *lock(&app.spare) = Some(copy);
        }));
        sim
    }
}

/// A server bound to its address, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    app: Arc<App>,
}

impl Server {
    /// Prepares the classroom of `scenario` (loaded from `text`) and binds `config.bind`.
    ///
    /// # Errors
    /// [`ServeError::Bind`] when the address cannot be bound.
    pub fn bind(scenario: Scenario, text: String, config: &Config) -> Result<Server, ServeError> {
        let listener = TcpListener::bind(config.bind)
            .map_err(|source| ServeError::Bind { addr: config.bind, source })?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let lesson = Lesson::new(scenario, text);
        let app = App {
            scenario_info: lesson.info(),
            lesson,
            sessions: Mutex::new(Sessions::new(config.max_sessions)),
            guard: HostGuard::new(addr.port(), &config.allowed_hosts),
            spare: Mutex::new(None),
        };
        Ok(Server { listener, addr, app: Arc::new(app) })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address (`http://127.0.0.1:8080/`; `localhost` for an unspecified address).
    pub fn url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() {
            format!("localhost:{}", self.addr.port())
        } else {
            self.addr.to_string()
        };
        format!("http://{host}/")
    }

    /// Whether the address can be reached from other machines (not loopback).
    pub fn is_exposed(&self) -> bool {
        !self.addr.ip().is_loopback()
    }

    /// Serves until the process ends, on one thread.
    ///
    /// # Errors
    /// [`ServeError::Io`] when the runtime cannot start or accepting connections fails.
    pub fn run(self) -> Result<(), ServeError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            let router = Router::new().fallback(routes::handle).with_state(self.app);
            axum::serve(listener, router).await
        })?;
        Ok(())
    }
}

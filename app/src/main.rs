use std::process::ExitCode;

use clap::{Parser, Subcommand};
use miette::IntoDiagnostic;

/// mimalloc: the server allocates many small, short-lived buffers per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The multi-tenant workload the platform deploys.
#[derive(Debug, Parser)]
#[command(name = "app", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (settings from APP_* variables and the optional APP_CONFIG_FILE).
    Serve,
    /// Apply the database migrations (run as the owner of the tables, e.g. a Kubernetes Job).
    Migrate {
        /// PostgreSQL URL of the owner role.
        #[arg(long, env = "DATABASE_OWNER_URL", hide_env_values = true)]
        database_url: String,
    },
}

fn main() -> miette::Result<ExitCode> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    match cli.command {
        Command::Serve => {
            let settings = app::settings::Settings::from_env()?;
            let _telemetry = app::ops::telemetry::init(settings.log_format)?;
            runtime.block_on(async {
                let app = app::server::Application::build(&settings).await?;
                tracing::info!(listen = %app.local_addr(), "serving");
                app.run_until(app::server::shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Migrate { database_url } => runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&database_url).await.into_diagnostic()?;
            app::db::MIGRATOR.run(&pool).await.into_diagnostic()?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }),
    }
}

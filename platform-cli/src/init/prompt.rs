//! The questions of `platform init` on a terminal. Each answer is checked by the manifest's
//! own rules before the next question ([`Answers::problems_with`]); flags skip their questions.

use std::collections::BTreeSet;

use dialoguer::{Input, Select, theme::ColorfulTheme};

use crate::manifest::{ci, rules::text::is_dns_label};
use crate::model::Provider;

use super::InitError;
use super::answers::{self, Answers, Question, Signing};
use super::draft::{DEFAULT_ENVIRONMENTS, Draft};

/// Asks every question the flags left open; returns answers with no problem left.
pub fn ask(draft: &Draft, dir_name: Option<&str>) -> Result<Answers, InitError> {
    let mut p = Prompter {
        answers: draft.provisional(),
        known: BTreeSet::new(),
        theme: ColorfulTheme::default(),
        dir_name: dir_name.filter(|n| is_dns_label(n)).map(String::from),
    };
    while let Some(q) = answers::questions(&p.answers)
        .into_iter()
        .find(|q| !p.known.contains(q) && !draft.gives(*q))
    {
        p.ask(q)?;
    }
    // Rules across answers (a registry its workflow cannot push to, say): ask again.
    loop {
        let problems = p.answers.problems();
        if problems.is_empty() {
            return Ok(p.answers);
        }
        for (question, problems) in answers::by_question(problems) {
            let Some(question) = question else {
                return Err(InitError::Defaults { problems });
            };
            for problem in &problems {
                eprintln!("{}: {}", question.flag(), problem.explain());
            }
            p.ask(question)?;
        }
    }
}

struct Prompter {
    answers: Answers,
    /// Questions answered here (their values are real, not stand-ins).
    known: BTreeSet<Question>,
    theme: ColorfulTheme,
    dir_name: Option<String>,
}

impl Prompter {
    fn ask(&mut self, q: Question) -> Result<(), InitError> {
        match q {
            Question::Signing => {
                let github = crate::model::github_repository(&self.answers.repo_url).is_some();
                let current = usize::from(matches!(self.answers.signing, Signing::Key { .. }) || !github);
                self.choose(
                    q,
                    "How does the app workflow sign the image?",
                    &[
                        ("keyless", "keyless: its GitHub OIDC identity, no key to keep"),
                        ("key", "key: a cosign key pair"),
                    ],
                    current,
                )
            }
            Question::Production => {
                let names: Vec<String> = self
                    .answers
                    .environments
                    .iter()
                    .map(|e| e.name.clone())
                    .chain(["none".to_string()])
                    .collect();
                let choices: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), n.as_str())).collect();
                let current = self.answers.production.unwrap_or(names.len() - 1);
                self.choose(q, "Which environment is production?", &choices, current)
            }
            Question::Provider(i) => {
                let previous = i.checked_sub(1).map(|p| self.answers.environments[p].provider);
                let current = match previous.unwrap_or(self.answers.environments[i].provider) {
                    Provider::Eks => 0,
                    Provider::Aks => 1,
                    Provider::Gke => 2,
                    Provider::Existing => 3,
                };
                let prompt = format!("Where does {} run?", self.answers.environments[i].name);
                self.choose(
                    q,
                    &prompt,
                    &[
                        ("eks", "eks: Amazon EKS"),
                        ("aks", "aks: Azure AKS"),
                        ("gke", "gke: Google GKE"),
                        ("existing", "existing: a cluster you have, through a kubeconfig context"),
                    ],
                    current,
                )
            }
            Question::PublicKey => self.public_key(),
            _ => self.text(q),
        }
    }

    fn choose(&mut self, q: Question, prompt: &str, choices: &[(&str, &str)], current: usize) -> Result<(), InitError> {
        let labels: Vec<&str> = choices.iter().map(|(_, label)| *label).collect();
        let picked = Select::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(&labels)
            .default(current.min(choices.len().saturating_sub(1)))
            .interact()?;
        self.answers
            .set(q, choices[picked].0)
            .map_err(|why| InitError::Prompt(std::io::Error::other(why)))?;
        self.known.insert(q);
        Ok(())
    }

    fn text(&mut self, q: Question) -> Result<(), InitError> {
        let answers = self.answers.clone();
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(self.prompt(q))
            .allow_empty(q == Question::AppImage)
            .validate_with(move |value: &String| check(&answers, q, value));
        if let Some(default) = self.default(q) {
            input = input.default(default);
        }
        let value = input.interact_text()?;
        self.answers
            .set(q, &value)
            .map_err(|why| InitError::Prompt(std::io::Error::other(why)))?;
        self.known.insert(q);
        Ok(())
    }

    /// The key is read from a file (cosign.pub), not pasted: a PEM block spans lines.
    fn public_key(&mut self) -> Result<(), InitError> {
        let answers = self.answers.clone();
        let path = Input::<String>::with_theme(&self.theme)
            .with_prompt("Path of the cosign public key (cosign.pub)")
            .validate_with(move |path: &String| {
                let text = read_key(path)?;
                check(&answers, Question::PublicKey, &text)
            })
            .interact_text()?;
        let text = read_key(&path).map_err(|why| InitError::Prompt(std::io::Error::other(why)))?;
        self.answers
            .set(Question::PublicKey, &text)
            .map_err(|why| InitError::Prompt(std::io::Error::other(why)))?;
        self.known.insert(Question::PublicKey);
        Ok(())
    }

    fn prompt(&self, q: Question) -> String {
        let env = |i: usize| self.answers.environments[i].name.as_str();
        match q {
            Question::Name => "Platform name (a DNS label, used in resource names)".into(),
            Question::RepoUrl => "Git remote of this repository (Argo CD syncs from it)".into(),
            Question::Registry => "Registry for the app image (HOST/NAMESPACE)".into(),
            Question::RegistryLogin(key) => format!(
                "registry.login.{key} for {}",
                ci::RegistryKind::of(answers::registry_host(&self.answers.registry)).describe()
            ),
            Question::PrivateKey => {
                "Where the app workflow finds the private key (a GitHub Actions secret, or a KMS URI)".into()
            }
            Question::AppImage => {
                "App image pinned by digest (empty: a placeholder until the app workflow's first build)".into()
            }
            Question::Environments => "Environments, in promotion order (comma-separated)".into(),
            Question::Region(i) => format!("Region of {}", env(i)),
            Question::GcpProject(i) => format!("GCP project of {}", env(i)),
            Question::KubeContext(i) => format!("kubeconfig context of {}'s cluster", env(i)),
            Question::BackupEndpoint(i) => format!("S3-compatible endpoint for {}'s database backups", env(i)),
            Question::Domain(i) => format!("Domain of {} (the app is served at app.<domain>)", env(i)),
            Question::AcmeEmail(i) => format!("Let's Encrypt contact of {}", env(i)),
            Question::Signing | Question::PublicKey | Question::Production | Question::Provider(_) => q.flag(),
        }
    }

    /// What Enter accepts: a derived value, or the same answer as the environment before.
    fn default(&self, q: Question) -> Option<String> {
        let a = &self.answers;
        let previous = |i: usize, same: Question| -> Option<&answers::EnvAnswers> {
            let p = i.checked_sub(1)?;
            (self.known.contains(&same) && a.environments[p].provider == a.environments[i].provider)
                .then(|| &a.environments[p])
        };
        match q {
            Question::Name => self.dir_name.clone(),
            Question::Registry => answers::default_registry(&a.repo_url),
            Question::PrivateKey => Some(ci::DEFAULT_KEY_SECRET.into()),
            Question::Environments => Some(DEFAULT_ENVIRONMENTS.join(",")),
            Question::Region(i) => previous(i, Question::Region(i.wrapping_sub(1)))
                .and_then(|e| e.region.clone())
                .or_else(|| answers::default_region(a.environments[i].provider).map(String::from)),
            Question::GcpProject(i) => {
                previous(i, Question::GcpProject(i.wrapping_sub(1))).and_then(|e| e.gcp_project.clone())
            }
            Question::KubeContext(i) => {
                previous(i, Question::KubeContext(i.wrapping_sub(1))).and_then(|e| e.kube_context.clone())
            }
            Question::BackupEndpoint(i) => {
                previous(i, Question::BackupEndpoint(i.wrapping_sub(1))).and_then(|e| e.backup_endpoint.clone())
            }
            Question::Domain(i) => {
                let p = i.checked_sub(1)?;
                self.known.contains(&Question::Domain(p)).then_some(())?;
                let before = &a.environments[p];
                let base = before
                    .domain
                    .strip_prefix(&format!("{}.", before.name))
                    .unwrap_or(&before.domain);
                Some(answers::env_domain(
                    base,
                    &a.environments[i].name,
                    a.production == Some(i),
                ))
            }
            Question::AcmeEmail(i) => {
                let p = i.checked_sub(1)?;
                self.known
                    .contains(&Question::AcmeEmail(p))
                    .then(|| a.environments[p].acme_email.clone())
            }
            _ => None,
        }
    }
}

/// The first problem with `value` as the answer to `q`, as the prompt shows it.
fn check(answers: &Answers, q: Question, value: &str) -> Result<(), String> {
    let mut candidate = answers.clone();
    candidate.set(q, value)?;
    match candidate.problems_with(q).first() {
        Some(problem) => Err(problem.explain()),
        None => Ok(()),
    }
}

fn read_key(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path.trim()).map_err(|e| format!("cannot read {}: {e}", path.trim()))
}

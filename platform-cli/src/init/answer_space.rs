//! Property: whatever is typed at the prompts, an answer a prompt accepts never leads to a
//! manifest `platform validate` refuses. Each question gets generated answers (well-shaped
//! ones and junk) the way a person retries after an error; after three refusals it gets a
//! valid answer. At the end the manifest of the accepted answers must have no problem at all.

use proptest::prelude::*;

use super::answers::{Answers, Question, default_region, questions};
use super::draft::Draft;
use crate::model::Provider;

/// The random parts one typed answer is made of.
#[derive(Debug, Clone)]
struct Typed {
    pick: u8,
    label: String,
    label2: String,
    digits: String,
    junk: String,
}

fn typed() -> impl Strategy<Value = Typed> {
    (
        any::<u8>(),
        "[a-z][a-z0-9-]{0,14}[a-z0-9]",
        "[a-z][a-z0-9]{0,9}",
        "[0-9]{12}",
        "\\PC{0,14}",
    )
        .prop_map(|(pick, label, label2, digits, junk)| Typed {
            pick,
            label,
            label2,
            digits,
            junk,
        })
}

const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7L3pQmcT2vXz0lYb1O5sWq2f9Hn4\nkD8Jx6RZt3aUe1yVwMfQ0sN5cG7hLrPiK2jTqX9oBvAeDfCgHuIkJlMnOp==\n-----END PUBLIC KEY-----\n";

/// What a person might type for `q`: one in five answers is junk.
fn answer(q: Question, t: &Typed, a: &Answers) -> String {
    if t.pick % 5 == 4 {
        return t.junk.clone();
    }
    let (l, l2) = (&t.label, &t.label2);
    let n = usize::from(t.pick / 5);
    let provider = |i: usize| a.environments.get(i).map_or(Provider::Eks, |e| e.provider);
    match q {
        Question::Name => l.clone(),
        Question::RepoUrl => [
            format!("https://github.com/{l}/{l2}.git"),
            format!("https://github.com/{l}/{l2}"),
            format!("https://git.{l2}.org/{l}.git"),
        ][n % 3]
            .clone(),
        Question::Registry => [
            format!("ghcr.io/{l}"),
            format!("{}.dkr.ecr.eu-west-1.amazonaws.com/{l}", t.digits),
            format!("{l2}.azurecr.io/{l}"),
            format!("europe-docker.pkg.dev/{l}/{l2}"),
            format!("registry.{l2}.org:5000/{l}"),
        ][n % 5]
            .clone(),
        Question::RegistryLogin(key) => valid(q, a).unwrap_or_else(|| format!("{key}-{l}")),
        Question::Signing => ["keyless", "key"][n % 2].into(),
        Question::PublicKey => PEM.into(),
        Question::PrivateKey => [
            String::new(),
            l2.to_ascii_uppercase(),
            format!("awskms:///alias/{l}"),
            format!("gcpkms://projects/{l}/locations/global/keyRings/{l2}/cryptoKeys/k"),
            format!("azurekms://{l2}.vault.azure.net/{l}"),
        ][n % 5]
            .clone(),
        Question::AppImage => [String::new(), format!("{}/app@sha256:{}", a.registry, "ab".repeat(32))][n % 2].clone(),
        Question::Environments => {
            let names = [l.as_str(), l2.as_str(), "staging", "prod"];
            names[..=n % 4].join(",")
        }
        Question::Production => {
            let names: Vec<&str> = a.environments.iter().map(|e| e.name.as_str()).collect();
            names.get(n % (names.len() + 1)).copied().unwrap_or("none").into()
        }
        Question::Provider(_) => ["eks", "aks", "gke", "existing"][n % 4].into(),
        Question::Region(i) => match provider(i) {
            Provider::Eks => ["eu-west-1", "us-east-1", "ap-southeast-2"][n % 3],
            Provider::Aks => ["westeurope", "eastus2", "japaneast"][n % 3],
            _ => ["europe-west1", "us-central1", "asia-northeast1"][n % 3],
        }
        .into(),
        Question::GcpProject(_) => format!("{l}-{l2}"),
        Question::KubeContext(_) => format!("{l}@{l2}"),
        Question::BackupEndpoint(_) => format!("https://minio.{l2}.example.org"),
        Question::Domain(_) => format!("{l}.{l2}.com"),
        Question::AcmeEmail(_) => format!("{l2}@{l}.com"),
    }
}

/// An answer a person who read the error would give, where one depends on earlier answers.
fn valid(q: Question, a: &Answers) -> Option<String> {
    let host = super::answers::registry_host(&a.registry);
    Some(match q {
        Question::Name => "shop".into(),
        Question::RepoUrl => "https://github.com/acme/gitops.git".into(),
        Question::Registry => {
            super::answers::default_registry(&a.repo_url).unwrap_or_else(|| "registry.example.org/ops".into())
        }
        Question::RegistryLogin("awsRoleArn") => format!("arn:aws:iam::{}:role/ci-push", host.split('.').next()?),
        Question::RegistryLogin("gcpWorkloadIdentityProvider") => {
            "projects/123456789012/locations/global/workloadIdentityPools/github/providers/github".into()
        }
        Question::RegistryLogin("gcpServiceAccount") => "ci-push@acme-prod.iam.gserviceaccount.com".into(),
        Question::RegistryLogin(key) if key.starts_with("azure") => "5f0c2b8e-6a7d-4e1f-9b3c-2d4e6f8a0b1c".into(),
        Question::RegistryLogin(_) => "REGISTRY_SECRET".into(),
        Question::Signing => "key".into(),
        Question::PublicKey => PEM.into(),
        Question::PrivateKey => String::new(),
        Question::AppImage => String::new(),
        Question::Environments => "dev,staging,prod".into(),
        Question::Production => "none".into(),
        Question::Provider(_) => "eks".into(),
        Question::Region(i) => default_region(a.environments[i].provider)?.into(),
        Question::GcpProject(_) => "acme-project".into(),
        Question::KubeContext(_) => "admin@lab".into(),
        Question::BackupEndpoint(_) => "https://minio.example.org".into(),
        Question::Domain(i) => format!("{}.example.com", a.environments[i].name),
        Question::AcmeEmail(_) => "ops@example.com".into(),
    })
}

/// The prompts' loop: each question in turn, retried as a person would.
fn answer_all(typed: &[Typed]) -> Result<Answers, String> {
    let mut a = Draft::default().provisional();
    let mut asked = Vec::new();
    let mut typed = typed.iter().cycle();
    while let Some(q) = questions(&a).into_iter().find(|q| !asked.contains(q)) {
        let mut accepted = false;
        for t in typed.by_ref().take(3) {
            let mut candidate = a.clone();
            if candidate.set(q, &answer(q, t, &a)).is_ok() && candidate.problems_with(q).is_empty() {
                a = candidate;
                accepted = true;
                break;
            }
        }
        if !accepted {
            let value = valid(q, &a).ok_or_else(|| format!("no valid answer for {q:?}"))?;
            a.set(q, &value)?;
            let problems = a.problems_with(q);
            if !problems.is_empty() {
                return Err(format!(
                    "the valid answer {value:?} to {q:?} was refused: {}",
                    problems[0].explain()
                ));
            }
        }
        asked.push(q);
    }
    Ok(a)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn answers_the_prompts_accept_make_a_manifest_that_validates(typed in prop::collection::vec(typed(), 8..40)) {
        let answers = answer_all(&typed).map_err(TestCaseError::fail)?;
        let problems: Vec<String> = answers
            .problems()
            .iter()
            .map(|p| format!("{:?}: {} {}", p.question, p.diagnostic.field, p.explain()))
            .collect();
        prop_assert!(problems.is_empty(), "{problems:#?}\n{}", answers.manifest().unwrap_or_default());
    }
}

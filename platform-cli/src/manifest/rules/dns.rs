//! Who makes an environment's DNS records and how its certificates are validated
//! (`environments[].dns`).

use super::Checker;
use super::data::reachable_from_internet;
use super::text::is_domain;
use crate::model::{Challenge, DnsRecords, Provider};

/// Every hostname of the Gateway needs a record maker and a certificate path that can succeed
/// where the environment is reachable from.
pub(super) fn check_dns(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let dns = &env.dns;
    let env_pointer = p;
    let p = format!("{p}/dns");
    let records = env.dns_records();
    if let Some(zone) = &dns.zone
        && !(is_domain(zone) && (env.domain == *zone || env.domain.ends_with(&format!(".{zone}"))))
    {
        c.invalid(
            &format!("{p}/zone"),
            format!("zone \"{zone}\" does not hold the domain {}", env.domain),
            format!("{} or one of its parent domains", env.domain),
            "the records app., argocd. and grafana.<domain> go to this zone; leave it out to use the domain itself",
        );
    }
    match (records, env.cluster.provider) {
        (DnsRecords::Cloud, Provider::Existing) => c.invalid(
            &format!("{p}/records"),
            "an existing cluster has no cloud DNS",
            "records: rfc2136 or manual on provider: existing",
            "use `rfc2136` with the `rfc2136` server external-dns updates, or `manual` to make the records yourself",
        ),
        (DnsRecords::Rfc2136, _) if dns.rfc2136.is_none() => c.missing(
            &p,
            "rfc2136",
            "the DNS server external-dns updates",
            "e.g. `rfc2136: { server: 192.168.1.53, keyName: external-dns }`; the key's secret is the Secret \
             external-dns-tsig (`platform secrets set`)",
        ),
        _ => {}
    }
    if dns.rfc2136.is_some() && records != DnsRecords::Rfc2136 {
        c.invalid(
            &format!("{p}/rfc2136"),
            "`rfc2136` has no effect without `records: rfc2136`",
            "rfc2136 only with records: rfc2136",
            "set `records: rfc2136`, or remove the server",
        );
    }
    if let Some(server) = &dns.rfc2136 {
        check_rfc2136_server(c, &p, server);
    }
    if !dns.create_zone && records != DnsRecords::Cloud {
        c.invalid(
            &format!("{p}/createZone"),
            "`createZone` has no effect without `records: cloud`",
            "createZone only with records: cloud",
            "remove it: only the cloud's zone is made or looked up by Terraform",
        );
    }
    check_challenge(c, env_pointer, &p, env, records);
}

/// The RFC 2136 server external-dns updates: an address, and a TSIG key name.
fn check_rfc2136_server(c: &mut Checker<'_>, p: &str, server: &crate::model::Rfc2136) {
    if server.server.trim().is_empty() || server.server.contains(char::is_whitespace) {
        c.invalid(
            &format!("{p}/rfc2136/server"),
            format!("\"{}\" is not a server address", server.server),
            "an IP address or a host name the cluster's pods resolve",
            "the primary name server of the zone, which must accept updates signed with the key",
        );
    }
    if !is_domain(server.key_name.trim_end_matches('.')) {
        c.invalid(
            &format!("{p}/rfc2136/keyName"),
            format!("\"{}\" is not a TSIG key name", server.key_name),
            "the key's name as the server's configuration spells it, e.g. external-dns",
            "BIND: the name after `key` in named.conf",
        );
    }
}

/// How Let's Encrypt validates the certificates: a path that can succeed where the environment
/// is reachable from.
fn check_challenge(
    c: &mut Checker<'_>,
    env_pointer: &str,
    p: &str,
    env: &crate::model::Environment,
    records: DnsRecords,
) {
    let provider = env.cluster.provider.in_prose();
    match env.dns.challenge {
        Challenge::Dns01 if records == DnsRecords::Manual => c.invalid(
            &format!("{p}/challenge"),
            "DNS-01 needs a DNS that cert-manager can write",
            "challenge: dns01 with records: cloud or rfc2136",
            "cert-manager writes each challenge's TXT record through the same DNS as external-dns: set `records`, \
             or use `challenge: http01`",
        ),
        Challenge::Dns01 if env.cluster.provider == Provider::Aks => c.invalid(
            &format!("{p}/challenge"),
            format!("DNS-01 is not offered on {provider}"),
            "challenge: http01 on provider: aks",
            "cert-manager's Azure DNS solver needs the subscription and the identity's client id in the \
             ClusterIssuer, which exist only after Terraform ran; AKS's load balancer is public, so HTTP-01 works",
        ),
        Challenge::Http01
            if env.cluster.provider == Provider::Existing
                && !reachable_from_internet(&env.cluster.load_balancer_addresses) =>
        {
            c.invalid(
                &format!("{env_pointer}/cluster/loadBalancerAddresses"),
                "every address is private: Let's Encrypt cannot reach the Gateway for HTTP-01",
                "dns.challenge: dns01 where every loadBalancerAddresses range is private",
                "MetalLB gives the Gateway a private address, which Let's Encrypt's HTTP-01 check cannot reach: set \
             `dns.challenge: dns01` with `dns.records: rfc2136`",
            );
        }
        Challenge::Http01 | Challenge::Dns01 => {}
    }
}

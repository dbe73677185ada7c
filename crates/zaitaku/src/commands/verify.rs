//! `zaitaku token verify` and `zaitaku cert verify`: the relying party's check, as JSON.

use crate::setup::{CliError, EXIT_INVALID, read_file};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::validate::{
    Rejection, RevocationPolicy, ValidCertificate, Validator, ValidatorConfig,
};
use zaitaku_card::{ChallengeNonce, Origin, oids};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Verify a Web eID token; prints a JSON result. Exit 0 valid, 1 invalid, 2 usage error.
    Verify {
        #[command(flatten)]
        trust: TrustOptions,
        /// The origin the token must be bound to, e.g. https://zaitaku.example.jp
        #[arg(long)]
        origin: String,
        /// The challenge nonce (base64) the token must be bound to.
        #[arg(long)]
        nonce: String,
        /// JSON file holding the token ("-" for standard input).
        token_file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// Check one card certificate (path, policy, usages, validity, revocation).
    Verify {
        #[command(flatten)]
        trust: TrustOptions,
        /// The certificate, PEM or DER.
        cert_pem: PathBuf,
    },
}

#[derive(Args)]
pub struct TrustOptions {
    /// Root CA certificate(s) to trust, PEM or DER (repeatable; a PEM file may hold several).
    #[arg(long = "trust-anchor", value_name = "PEM", required = true)]
    trust_anchors: Vec<PathBuf>,
    /// Check as of this time (RFC 3339, e.g. 2020-01-01T09:00:00+09:00); default now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// CRL to consult, PEM or DER (repeatable).
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// Also accept this certificate policy OID (repeatable). JPKI's user-authentication
    /// policy is always accepted; "zaitaku-test" names the virtual cards' policy.
    #[arg(long = "allow-policy", value_name = "OID")]
    allow_policies: Vec<String>,
    /// Fail when no CRL could say whether the certificate is revoked.
    #[arg(long)]
    require_revocation: bool,
}

impl TrustOptions {
    fn validator(&self) -> Result<(Validator, SystemTime), CliError> {
        let config = validator_config(
            &self.trust_anchors,
            &self.crls,
            &self.allow_policies,
            self.require_revocation,
        )?;
        let at = match &self.at {
            Some(text) => parse_time(text)?,
            None => SystemTime::now(),
        };
        Ok((Validator::new(config), at))
    }
}

/// The relying party's configuration from command-line files; shared with `serve`.
pub fn validator_config(
    trust_anchors: &[PathBuf],
    crls: &[PathBuf],
    allow_policies: &[String],
    require_revocation: bool,
) -> Result<ValidatorConfig, CliError> {
    let mut anchors = Vec::new();
    for path in trust_anchors {
        let loaded = TrustAnchor::load_all(&read_file(path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        anchors.extend(loaded);
    }
    let mut config = ValidatorConfig::new(anchors);
    for policy in allow_policies {
        config.allowed_policies.push(parse_policy(policy)?);
    }
    for path in crls {
        config
            .crls
            .push(Crl::load(&read_file(path)?).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    if require_revocation {
        config.revocation = RevocationPolicy::Required;
    }
    Ok(config)
}

fn parse_policy(text: &str) -> Result<oids::ObjectIdentifier, CliError> {
    if text == "zaitaku-test" {
        return Ok(oids::ZAITAKU_TEST_CARD_POLICY);
    }
    if text == "jpki-auth" {
        return Ok(oids::JPKI_AUTH_POLICY);
    }
    text.parse().map_err(|_| {
        format!(
            "--allow-policy {text:?} is not an object identifier like 1.2.392.200149.8.5.1.3.30"
        )
        .into()
    })
}

pub fn parse_time(text: &str) -> Result<SystemTime, CliError> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            format!("--at {text:?} is not an RFC 3339 time such as 2020-01-01T00:00:00Z")
        })?;
    Ok(parsed.into())
}

fn report(result: Result<ValidCertificate, Rejection>) -> Result<ExitCode, CliError> {
    match result {
        Ok(valid) => {
            let mut value = serde_json::to_value(&valid)?;
            value["valid"] = json!(true);
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            let value = json!({
                "valid": false,
                "error": { "code": rejection.error.code(), "message": rejection.error.to_string() },
                "certificate": rejection.certificate,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
            eprintln!("invalid: {}", rejection.error);
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}

pub fn run_token(command: TokenCommand) -> Result<ExitCode, CliError> {
    let TokenCommand::Verify {
        trust,
        origin,
        nonce,
        token_file,
    } = command;
    let origin = Origin::parse(&origin)?;
    let nonce = ChallengeNonce::parse(&nonce).map_err(|e| format!("--nonce: {e}"))?;
    let (validator, at) = trust.validator()?;
    let token = if token_file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        buf
    } else {
        read_file(&token_file)?
    };
    // Files written by shells end with a newline; the token is the JSON before it.
    report(validator.validate_token(token.trim_ascii_end(), &origin, &nonce, at))
}

pub fn run_cert(command: CertCommand) -> Result<ExitCode, CliError> {
    let CertCommand::Verify { trust, cert_pem } = command;
    let (validator, at) = trust.validator()?;
    let bytes = read_file(&cert_pem)?;
    // PEM is decoded here; anything else goes to the validator as DER, which says if it is not.
    let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let mut certs = zaitaku_card::pem::load_certificates(&bytes)
            .map_err(|e| format!("{}: {e}", cert_pem.display()))?;
        certs.remove(0).1
    } else {
        bytes
    };
    report(validator.validate_certificate(&der, at))
}

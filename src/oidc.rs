//! OpenID Connect, the protocol side of sign-in without an LMS: a provider's discovery document
//! and keys, its client, and openidconnect's HTTP client over the one guarded client. No state,
//! no storage: `signin` is the use case that holds them.
use std::{future::Future, pin::Pin};

use openidconnect::{ClientId, ClientSecret, RedirectUrl, core::CoreProviderMetadata};

use crate::outbound::Outbound;

/// The client of a provider, as its discovery document makes it.
pub type ProviderClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// A provider's discovery document with its keys, and where it signs people out.
pub struct Discovered {
    pub metadata: CoreProviderMetadata,
    pub end_session: Option<String>,
}

/// The client of a discovered provider, sending people back to `redirect`.
pub fn client(
    discovered: &Discovered,
    client_id: &str,
    client_secret: &str,
    redirect: &str,
) -> Result<ProviderClient, String> {
    let redirect = RedirectUrl::new(redirect.to_owned()).map_err(|err| err.to_string())?;
    Ok(openidconnect::core::CoreClient::from_provider_metadata(
        discovered.metadata.clone(),
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret.to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// Reads a provider's discovery document and keys; the document must name `issuer`.
pub async fn discover(http_client: &Outbound, issuer: &str) -> Result<Discovered, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = http_client
        .get("the provider's discovery document", &url)
        .map_err(|err| err.to_string())?
        .send()
        .await
        .map_err(|err| err.to_string())?;
    if !response.status().is_success() {
        return Err(format!("discovery answered {}", response.status()));
    }
    let body = crate::outbound::read_limited(response, crate::outbound::MAX_ANSWER_BYTES)
        .await
        .map_err(|err| err.to_string())?;
    let metadata: CoreProviderMetadata =
        serde_json::from_slice(&body).map_err(|err| err.to_string())?;
    if metadata.issuer().as_str().trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "the document names issuer {}, not {issuer}",
            metadata.issuer().as_str(),
        ));
    }
    let end_session = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|doc| doc["end_session_endpoint"].as_str().map(str::to_owned));
    let http = bridge(http_client.clone());
    let keys = openidconnect::core::CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
        .await
        .map_err(|err| err.to_string())?;
    Ok(Discovered {
        metadata: metadata.set_jwks(keys),
        end_session,
    })
}

/// The error of a call through the guarded client, as openidconnect sees it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BridgeError(String);

type Pending =
    Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, BridgeError>> + Send>>;

/// openidconnect's HTTP client, over the one guarded client (https only, public addresses, no
/// redirects, capped answers).
pub fn bridge(http: Outbound) -> impl Fn(openidconnect::HttpRequest) -> Pending {
    move |request: openidconnect::HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let builder = match parts.method.as_str() {
                "POST" => http.post("the provider's endpoint", &url),
                _ => http.get("the provider's endpoint", &url),
            }
            .map_err(|err| BridgeError(err.to_string()))?;
            let response = builder
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|err| BridgeError(err.to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = crate::outbound::read_limited(response, crate::outbound::MAX_ANSWER_BYTES)
                .await
                .map_err(|err| BridgeError(err.to_string()))?;
            let mut answer = openidconnect::http::Response::new(bytes);
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        }) as Pending
    }
}

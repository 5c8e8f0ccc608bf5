//! The voice adapter against a loopback server speaking the End User
//! Messaging SMS and voice v2 JSON 1.0 protocol (moto does not implement
//! that service).

use crate::support;

use earshot::adapters::voice::EndUserMessagingVoice;
use earshot::domain::PhoneNumber;
use earshot::ports::VoiceCaller;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TARGET: &str = "PinpointSMSVoiceV2.SendVoiceMessage";
const JSON_1_0: &str = "application/x-amz-json-1.0";
const ORIGINATION: &str = "+15555550199";

async fn caller(server: &MockServer) -> EndUserMessagingVoice {
    let sdk = support::sdk_config_for(&server.uri()).await;
    EndUserMessagingVoice::new(aws_sdk_pinpointsmsvoicev2::Client::new(&sdk), ORIGINATION)
}

fn sam() -> PhoneNumber {
    PhoneNumber::parse("+15555550100").unwrap()
}

#[tokio::test]
async fn a_call_sends_the_spoken_text_from_the_origination_identity() {
    let server = MockServer::start().await;
    let spoken =
        "Earshot, priority one, Northwind: children stranded on the tarmac. Text ACK, Q F W J.";
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("x-amz-target", TARGET))
        .and(header("content-type", JSON_1_0))
        .and(body_partial_json(json!({
            "DestinationPhoneNumber": "+15555550100",
            "OriginationIdentity": ORIGINATION,
            "MessageBody": spoken,
            "MessageBodyTextType": "TEXT",
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"MessageId":"voice-0001"}"#, JSON_1_0),
        )
        .expect(1)
        .mount(&server)
        .await;
    let message_id = caller(&server).await.call(&sam(), spoken).await.unwrap();
    assert_eq!(message_id, "voice-0001");
}

/// A call the API answers with `status` and `body`: the adapter's error.
async fn failed_call(status: u16, body: &str) -> earshot::ports::VoiceError {
    let server = MockServer::start().await;
    Mock::given(header("x-amz-target", TARGET))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, JSON_1_0))
        // Never twice: a retry after the call went through rings again.
        .expect(1)
        .mount(&server)
        .await;
    caller(&server)
        .await
        .call(&sam(), "Earshot test call.")
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_refused_call_is_an_error_naming_the_reason() {
    let err = failed_call(
        400,
        r#"{"__type":"ConflictException","Message":"Destination not verified","Reason":"DESTINATION_PHONE_NUMBER_NOT_VERIFIED"}"#,
    )
    .await;
    assert_eq!(err.phone, sam());
    assert!(err.reason.contains("ConflictException"), "{}", err.reason);
    assert!(!err.outcome_unknown, "a refused call was not placed");
}

/// The SDK would retry a server error; the adapter asks once.
#[tokio::test]
async fn a_call_answered_with_a_server_error_is_not_tried_again() {
    let err = failed_call(
        500,
        r#"{"__type":"InternalServerException","Message":"try later"}"#,
    )
    .await;
    assert!(err.outcome_unknown, "{}", err.reason);
    assert!(
        err.reason.contains("InternalServerException"),
        "{}",
        err.reason
    );
}

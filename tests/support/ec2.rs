//! Plain HTTP requests to moto_server for what no SDK here covers: the
//! default VPC and subnet (EC2 DescribeSubnets; Fargate tasks and ELBv2
//! target groups need their ids), instances to put behind a load balancer,
//! STS AssumeRole (credentials of another account) and moto's own
//! state-manager API.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

/// `(vpc id, subnet id)` of a default subnet of us-east-1 on the moto server at `port`.
pub fn default_subnet(port: u16) -> (String, String) {
    let body = "Action=DescribeSubnets&Version=2016-11-15";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto_server");
    stream
        .write_all(request.as_bytes())
        .expect("send DescribeSubnets");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read DescribeSubnets");
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = response
            .find(&open)
            .unwrap_or_else(|| panic!("no {name} in DescribeSubnets answer: {response}"))
            + open.len();
        let end = start
            + response[start..]
                .find('<')
                .unwrap_or_else(|| panic!("unterminated {name}: {response}"));
        response[start..end].to_string()
    };
    (field("vpcId"), field("subnetId"))
}

fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto_server");
    stream
        .write_all(request.as_bytes())
        .expect("send to moto_server");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read from moto_server");
    response
}

/// Keep ECS tasks where they are: by default moto moves a task one step
/// through its lifecycle (RUNNING, DEACTIVATING, ...) at every describe.
pub fn freeze_task_lifecycle(port: u16) {
    let body =
        r#"{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}"#;
    let request = format!(
        "POST /moto-api/state-manager/set-transition HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(port, &request);
    assert!(
        response.starts_with("HTTP/1.1 201") || response.starts_with("HTTP/1.1 200"),
        "moto state manager refused: {response}"
    );
}

/// Credentials of a session in another account (STS AssumeRole of a role in
/// `account`): moto keeps each account's resources apart and tells them by
/// the access key. `(access key id, secret, session token)`.
pub fn assume_role(port: u16, account: &str) -> (String, String, String) {
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=opsdeck-test\
         &RoleArn=arn%3Aaws%3Aiam%3A%3A{account}%3Arole%2Fops"
    );
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(port, &request);
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = response
            .find(&open)
            .unwrap_or_else(|| panic!("no {name} in AssumeRole answer: {response}"))
            + open.len();
        let end = start
            + response[start..]
                .find('<')
                .unwrap_or_else(|| panic!("unterminated {name}: {response}"));
        response[start..end].to_string()
    };
    (
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    )
}

/// An EC2 Query-protocol request to moto_server; the answer's text.
fn ec2_call(port: u16, params: &str) -> String {
    let body = format!("Version=2016-11-15&{params}");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(port, &request);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "EC2 {params} refused: {response}"
    );
    response
}

/// Launch `count` instances in `subnet`; their ids.
pub fn run_instances(port: u16, subnet: &str, count: u32) -> Vec<String> {
    let response = ec2_call(
        port,
        &format!(
            "Action=RunInstances&ImageId=ami-12c6146b&InstanceType=t3.micro\
             &MinCount={count}&MaxCount={count}&SubnetId={subnet}"
        ),
    );
    let ids: Vec<String> = response
        .split("<instanceId>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), count as usize, "{response}");
    ids
}

/// Stop an instance (a load balancer then reports it unused: InvalidState).
pub fn stop_instance(port: u16, id: &str) {
    ec2_call(port, &format!("Action=StopInstances&InstanceId.1={id}"));
}

// Unit and end-to-end tests talk only to loopback servers they start themselves; make sure no SDK
// client can fall back to real AWS credentials or endpoints from the developer's machine.
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLETEST00001';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test-secret';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

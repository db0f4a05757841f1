package webhook

// For the tests of package webhook_test.
var ServerMutating = serverMutating

const ServerMutatePath = serverMutatePath

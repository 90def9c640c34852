package authztest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	fgasdk "github.com/openfga/go-sdk"
	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/openfga/go-sdk/credentials"
)

// StartOpenFGA starts `openfga run` with the memory datastore on free
// loopback ports (HTTP and gRPC; playground, metrics and profiler off) and
// returns its HTTP API URL, "http://127.0.0.1:PORT". The test is skipped
// when MIZUCHI_OPENFGA is unset.
func StartOpenFGA(t testing.TB) (apiURL string, stop func()) {
	t.Helper()
	return startOpenFGA(t, nil)
}

// StartOpenFGAKey is StartOpenFGA with preshared-key authentication: API
// calls need "Authorization: Bearer <key>".
func StartOpenFGAKey(t testing.TB, key string) (apiURL string, stop func()) {
	t.Helper()
	return startOpenFGA(t, []string{"--authn-method=preshared", "--authn-preshared-keys=" + key})
}

func startOpenFGA(t testing.TB, extra []string) (string, func()) {
	t.Helper()
	bin := binary(t, "MIZUCHI_OPENFGA", "openfga")
	var base string
	stop := start(t, "openfga", bin, func() ([]string, string) {
		httpAddr, grpcAddr := loopback(FreePort(t)), loopback(FreePort(t))
		base = "http://" + httpAddr
		args := []string{"run", "--datastore-engine=memory", "--playground-enabled=false",
			"--metrics-enabled=false", "--profiler-enabled=false", "--log-level=error",
			"--http-addr=" + httpAddr, "--grpc-addr=" + grpcAddr}
		return append(args, extra...), base + "/healthz"
	})
	return base, stop
}

// ExampleModel is an OpenFGA authorization model (API JSON, schema 1.1)
// for upload tests. In the DSL:
//
//	type user
//	type bucket
//	  relations
//	    define writer: [user, user with under_limit, user with from_network]
//	type folder
//	  relations
//	    define parent: [bucket]
//	    define writer: [user] or writer from parent
//	condition under_limit(content_length: int, max_length: int) {
//	  content_length <= max_length
//	}
//	condition from_network(source_ip: ipaddress, network: string) {
//	  source_ip.in_cidr(network)
//	}
//
// content_length and source_ip come from the request context the engine
// sends; max_length and network from the tuple's condition context.
const ExampleModel = `{
  "schema_version": "1.1",
  "type_definitions": [
    {"type": "user"},
    {"type": "bucket",
     "relations": {"writer": {"this": {}}},
     "metadata": {"relations": {"writer": {"directly_related_user_types": [
       {"type": "user"},
       {"type": "user", "condition": "under_limit"},
       {"type": "user", "condition": "from_network"}]}}}},
    {"type": "folder",
     "relations": {
       "parent": {"this": {}},
       "writer": {"union": {"child": [
         {"this": {}},
         {"tupleToUserset": {"tupleset": {"relation": "parent"}, "computedUserset": {"relation": "writer"}}}]}}},
     "metadata": {"relations": {
       "parent": {"directly_related_user_types": [{"type": "bucket"}]},
       "writer": {"directly_related_user_types": [{"type": "user"}]}}}}
  ],
  "conditions": {
    "under_limit": {"name": "under_limit", "expression": "content_length <= max_length",
      "parameters": {"content_length": {"type_name": "TYPE_NAME_INT"}, "max_length": {"type_name": "TYPE_NAME_INT"}}},
    "from_network": {"name": "from_network", "expression": "source_ip.in_cidr(network)",
      "parameters": {"source_ip": {"type_name": "TYPE_NAME_IPADDRESS"}, "network": {"type_name": "TYPE_NAME_STRING"}}}
  }
}`

// Tuple returns the tuple user relation object, with a condition when
// cond is not empty (condCtx is its stored context).
func Tuple(user, relation, object, cond string, condCtx map[string]any) fgaclient.ClientTupleKey {
	k := fgaclient.ClientTupleKey{User: user, Relation: relation, Object: object}
	if cond != "" {
		k.Condition = &fgasdk.RelationshipCondition{Name: cond, Context: &condCtx}
	}
	return k
}

// NewStore creates a store on the OpenFGA server at apiURL (token: its
// preshared key, or empty), writes model (API JSON, like ExampleModel) and
// tuples, and returns the store and model ids. Failures fail the test.
func NewStore(t testing.TB, apiURL, token, model string, tuples ...fgaclient.ClientTupleKey) (storeID, modelID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := &fgaclient.ClientConfiguration{ApiUrl: apiURL}
	if token != "" {
		cfg.Credentials = &credentials.Credentials{Method: credentials.CredentialsMethodApiToken,
			Config: &credentials.Config{ApiToken: token}}
	}
	c, err := fgaclient.NewSdkClient(cfg)
	if err != nil {
		t.Fatalf("cannot create an OpenFGA client: %s", err)
	}
	store, err := c.CreateStore(ctx).Body(fgaclient.ClientCreateStoreRequest{Name: t.Name()}).Execute()
	if err != nil {
		t.Fatalf("cannot create an OpenFGA store: %s", err)
	}
	if err := c.SetStoreId(store.Id); err != nil {
		t.Fatal(err)
	}
	var req fgaclient.ClientWriteAuthorizationModelRequest
	if err := json.Unmarshal([]byte(model), &req); err != nil {
		t.Fatalf("cannot parse the model: %s", err)
	}
	m, err := c.WriteAuthorizationModel(ctx).Body(req).Execute()
	if err != nil {
		t.Fatalf("cannot write the model: %s", err)
	}
	if len(tuples) > 0 {
		opts := fgaclient.ClientWriteOptions{AuthorizationModelId: &m.AuthorizationModelId}
		if _, err := c.WriteTuples(ctx).Body(tuples).Options(opts).Execute(); err != nil {
			t.Fatalf("cannot write tuples: %s", err)
		}
	}
	return store.Id, m.AuthorizationModelId
}

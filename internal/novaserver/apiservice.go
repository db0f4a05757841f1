package novaserver

import (
	"encoding/base64"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ServingCertFile is where the server writes the self-signed serving certificate it
// generates in certDir (--cert-dir) when given none: the certificate followed by the CA
// that signed it, so it doubles as the APIService's caBundle.
func ServingCertFile(certDir string) string {
	return filepath.Join(certDir, certPairName+".crt")
}

// ConfigureAPIService fills in, on the APIService of config/apiservice, what is only known
// once the server runs: the CA bundle that verifies its serving certificate and the port
// it listens on. Other objects are left alone.
func ConfigureAPIService(obj *unstructured.Unstructured, caBundle []byte, port int) error {
	if obj.GetAPIVersion() != "apiregistration.k8s.io/v1" || obj.GetKind() != "APIService" {
		return nil
	}
	if err := unstructured.SetNestedField(obj.Object, base64.StdEncoding.EncodeToString(caBundle), "spec", "caBundle"); err != nil {
		return err
	}
	unstructured.RemoveNestedField(obj.Object, "spec", "insecureSkipTLSVerify")
	return unstructured.SetNestedField(obj.Object, int64(port), "spec", "service", "port")
}

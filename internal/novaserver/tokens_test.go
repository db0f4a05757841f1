package novaserver_test

import (
	"crypto/rsa"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/keyutil"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/localcp"
)

// authCacheTTL is the library's default TokenReview cache TTL
// (--authentication-token-webhook-cache-ttl), which LoopbackOptions keeps.
const authCacheTTL = 10 * time.Second

// serviceAccountToken signs, with kube-apiserver's own key, the token TokenRequest would
// issue for sa, but expiring at expiry: TokenRequest refuses less than ten minutes.
func serviceAccountToken(sa *corev1.ServiceAccount, expiry time.Time) string {
	GinkgoHelper()
	key, err := keyutil.PrivateKeyFromFile(cp.ServiceAccountSigningKey())
	Expect(err).NotTo(HaveOccurred())
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key.(*rsa.PrivateKey)}, nil)
	Expect(err).NotTo(HaveOccurred())
	type ref struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	}
	type kubernetesClaims struct {
		Namespace      string `json:"namespace"`
		ServiceAccount ref    `json:"serviceaccount"`
	}
	now := time.Now()
	token, err := jwt.Signed(signer).
		Claims(jwt.Claims{
			Issuer:    localcp.ServiceAccountIssuer,
			Audience:  jwt.Audience{localcp.ServiceAccountIssuer},
			Subject:   "system:serviceaccount:" + sa.Namespace + ":" + sa.Name,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(expiry),
		}).
		Claims(map[string]any{"kubernetes.io": kubernetesClaims{
			Namespace: sa.Namespace, ServiceAccount: ref{Name: sa.Name, UID: string(sa.UID)},
		}}).
		CompactSerialize()
	Expect(err).NotTo(HaveOccurred())
	return token
}

var _ = Describe("Token lifetime on the direct listener", func() {
	var (
		ns     string
		tokens map[string]string
		path   string
	)
	BeforeEach(func(ctx SpecContext) {
		ns, tokens = readyTenant(ctx)
		path = directURL + "/v2.1/" + ns + "/servers"
	})

	// watch polls the path with t until it is refused, and says when it was last
	// accepted and first refused.
	watch := func(ctx SpecContext, t string, timeout time.Duration) (lastOK, refused time.Time) {
		GinkgoHelper()
		Eventually(func() (int, error) {
			code, err := status(do(tlsClient, http.MethodGet, path, token(t), nil))
			switch {
			case code == http.StatusOK:
				lastOK = time.Now()
			case code == http.StatusUnauthorized && refused.IsZero():
				refused = time.Now()
			}
			return code, err
		}).WithContext(ctx).WithTimeout(timeout).WithPolling(100 * time.Millisecond).Should(Equal(http.StatusUnauthorized))
		return lastOK, refused
	}

	It("refuses a token from its expiry on, although the TokenReview cache and kube-apiserver's leeway would accept it", func(ctx SpecContext) {
		sa := &corev1.ServiceAccount{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "observer"}, sa)).To(Succeed())
		// JWT times are whole seconds.
		expiry := time.Now().Add(6 * time.Second).Truncate(time.Second)
		lastOK, refused := watch(ctx, serviceAccountToken(sa, expiry), time.Until(expiry)+2*time.Minute)

		Expect(lastOK).To(BeTemporally(">", expiry.Add(-2*time.Second)), "the token worked, and was cached, until shortly before its expiry")
		Expect(refused.Sub(expiry)).To(BeNumerically("<", 1500*time.Millisecond), "refused right after its expiry")
		AddReportEntry("expired token refused after", refused.Sub(expiry).Round(time.Millisecond).String())
	}, SpecTimeout(3*time.Minute))

	It("refuses a deleted service account's token within the TokenReview cache TTL (the revocation delay)", func(ctx SpecContext) {
		t := tokens["creator"]
		Expect(k8s.Delete(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creator"}})).To(Succeed())
		deleted := time.Now()
		_, refused := watch(ctx, t, authCacheTTL+time.Minute)

		Expect(refused.Sub(deleted)).To(BeNumerically("<=", authCacheTTL+2*time.Second))
		AddReportEntry("deleted service account's token refused after", refused.Sub(deleted).Round(time.Millisecond).String())
	}, SpecTimeout(2*time.Minute))
})

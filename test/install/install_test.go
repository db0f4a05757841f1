// Package install proves config/default as far as a machine without a container runtime
// allows: kustomize builds it, kube-apiserver accepts every object of it (server-side
// dry run, after the namespace and the CRDs it needs), and what a dry run cannot see
// holds: pods at the `restricted` Pod Security level, probes, resources, one image
// placeholder for `make deploy` to set, and references that resolve within the build.
// That the RBAC is enough is shown by test/e2e, which runs as the manifests' identities.
package install

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/manifests"
	"github.com/kova-dev/kova/internal/testenv"
)

func TestInstall(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(time.Minute)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "Install manifests suite")
}

// imagePlaceholder is the image config/default's `images:` entry names, which `make
// deploy IMG=...` and `make build-installer IMG=...` replace.
const imagePlaceholder = "controller:latest"

var objs []*unstructured.Unstructured

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	objs, err = manifests.Build(filepath.Join(testenv.Root(), "config", "default"))
	Expect(err).NotTo(HaveOccurred())
	Expect(objs).NotTo(BeEmpty())
})

// typed converts the built objects of one kind.
func typed[T any](kind string) []*T {
	var out []*T
	for _, o := range manifests.Select(objs, kind) {
		t := new(T)
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, t)).To(Succeed(), "%s %s", kind, o.GetName())
		out = append(out, t)
	}
	return out
}

func has(kind, namespace, name string) bool {
	return slices.ContainsFunc(objs, func(o *unstructured.Unstructured) bool {
		return o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name
	})
}

var _ = Describe("config/default", func() {
	It("is accepted whole by kube-apiserver in a server-side dry run, with no warning", func(ctx SpecContext) {
		cp, err := localcp.Start(ctx, localcp.Options{BinDir: testenv.BinDir()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(cp.Stop()).To(Succeed()) })
		cfg := rest.CopyConfig(cp.Config)
		warned := &testenv.Warnings{} // Pod Security's warn level among them
		cfg.WarningHandlerWithContext = warned
		scheme := testenv.Scheme()
		Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		apply := func(o *unstructured.Unstructured, opts ...client.ApplyOption) error {
			opts = append(opts, client.FieldOwner("kova-install-test"), client.ForceOwnership)
			return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), opts...)
		}

		By("the namespace and the CRDs for real: what the rest needs to exist")
		first := manifests.Select(objs, "Namespace", "CustomResourceDefinition")
		crdFiles, err := filepath.Glob(filepath.Join(testenv.Root(), "config", "crd", "bases", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(HaveLen(1+len(crdFiles)), "the namespace and every CRD controller-gen writes")
		for _, o := range first {
			Expect(apply(o)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
		}
		for _, o := range manifests.Select(first, "CustomResourceDefinition") {
			Eventually(func(g Gomega) {
				crd := &apiextensionsv1.CustomResourceDefinition{}
				g.Expect(c.Get(ctx, client.ObjectKey{Name: o.GetName()}, crd)).To(Succeed())
				g.Expect(crd.Status.Conditions).To(ContainElement(And(
					HaveField("Type", apiextensionsv1.Established), HaveField("Status", apiextensionsv1.ConditionTrue))))
			}).Should(Succeed())
		}

		By("every other object with a server-side dry run")
		kinds := map[string]int{}
		for _, o := range objs {
			if slices.Contains(first, o) {
				continue
			}
			Expect(apply(o, client.DryRunAll)).To(Succeed(), "%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
			kinds[o.GetKind()]++
		}
		Expect(kinds).To(HaveKeyWithValue("Deployment", 2))
		Expect(kinds).To(HaveKeyWithValue("PersistentVolumeClaim", 1), "the image API's data")
		Expect(kinds).To(HaveKeyWithValue("PodDisruptionBudget", 2))
		Expect(kinds).To(HaveKeyWithValue("APIService", 1))
		Expect(kinds).To(HaveKeyWithValue("MutatingWebhookConfiguration", 1))
		Expect(kinds).To(HaveKeyWithValue("ValidatingWebhookConfiguration", 1))
		Expect(kinds).To(HaveKeyWithValue("ServiceAccount", 2))
		// API Priority and Fairness for Kova's identities and tenants (config/flowcontrol).
		Expect(kinds).To(HaveKey("FlowSchema"))
		Expect(kinds).To(HaveKey("PriorityLevelConfiguration"))
		// Pod Security warns (the namespace's warn label) about a Deployment whose pods
		// would be refused; nothing else is warned about either.
		Expect(warned.All()).To(BeEmpty())

		By("nothing but the namespace and the CRDs was made")
		Expect(c.Get(ctx, client.ObjectKey{Namespace: "kova-system", Name: "kova-manager"}, &appsv1.Deployment{})).
			To(Satisfy(func(err error) bool { return client.IgnoreNotFound(err) == nil && err != nil }))
	})

	It("holds the namespace to the restricted Pod Security level, which every pod meets", func() {
		ns := typed[corev1.Namespace]("Namespace")
		Expect(ns).To(HaveLen(1))
		Expect(ns[0].Name).To(Equal("kova-system"))
		for _, mode := range []string{psaapi.EnforceLevelLabel, psaapi.AuditLevelLabel, psaapi.WarnLevelLabel} {
			Expect(ns[0].Labels).To(HaveKeyWithValue(mode, string(psaapi.LevelRestricted)))
		}
		evaluator, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
		Expect(err).NotTo(HaveOccurred())
		deployments := typed[appsv1.Deployment]("Deployment")
		Expect(deployments).To(HaveLen(2))
		for _, d := range deployments {
			results := evaluator.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()},
				&d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec)
			for _, r := range results {
				Expect(r.Allowed).To(BeTrue(), "%s: %s: %s", d.Name, r.ForbiddenReason, r.ForbiddenDetail)
			}
			Expect(d.Namespace).To(Equal("kova-system"))
			// What `restricted` leaves optional is required here too.
			for _, ctr := range d.Spec.Template.Spec.Containers {
				sc := ctr.SecurityContext
				Expect(sc).NotTo(BeNil(), "%s/%s", d.Name, ctr.Name)
				Expect(sc.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()), "%s/%s", d.Name, ctr.Name)
			}
		}
	})

	It("runs two replicas of each binary from one image placeholder, with probes, resources and a PodDisruptionBudget", func() {
		deployments := typed[appsv1.Deployment]("Deployment")
		pdbs := typed[policyv1.PodDisruptionBudget]("PodDisruptionBudget")
		commands := map[string][]string{}
		for _, d := range deployments {
			Expect(d.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)), d.Name)
			Expect(d.Spec.Template.Spec.Containers).To(HaveLen(1), d.Name)
			ctr := d.Spec.Template.Spec.Containers[0]
			Expect(ctr.Image).To(Equal(imagePlaceholder), d.Name)
			Expect(ctr.LivenessProbe).NotTo(BeNil(), d.Name)
			Expect(ctr.ReadinessProbe).NotTo(BeNil(), d.Name)
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				Expect(ctr.Resources.Requests).To(HaveKey(r), d.Name)
				Expect(ctr.Resources.Limits).To(HaveKey(r), d.Name)
			}
			commands[d.Name] = append(slices.Clone(ctr.Command), ctr.Args...)

			Expect(has("ServiceAccount", d.Namespace, d.Spec.Template.Spec.ServiceAccountName)).To(BeTrue(), d.Name)
			selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			Expect(err).NotTo(HaveOccurred())
			Expect(selector.Matches(labelsOf(d.Spec.Template.Labels))).To(BeTrue(), d.Name)
			covered := slices.ContainsFunc(pdbs, func(p *policyv1.PodDisruptionBudget) bool {
				s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
				return err == nil && p.Namespace == d.Namespace && s.Matches(labelsOf(d.Spec.Template.Labels)) &&
					p.Spec.MinAvailable != nil && p.Spec.MinAvailable.IntValue() == 1
			})
			Expect(covered).To(BeTrue(), "%s has no PodDisruptionBudget with minAvailable 1", d.Name)
			// Every writable path is a volume (the root filesystem is read-only), every
			// volume one the pod defines.
			for _, m := range ctr.VolumeMounts {
				Expect(d.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("Name", m.Name)), "%s: %s", d.Name, m.Name)
			}
		}
		Expect(commands).To(HaveKeyWithValue("kova-manager", ContainElements("/manager", "--leader-elect", "--cert-rotation")))
		Expect(commands).To(HaveKeyWithValue("kova-nova-api", ContainElement("/nova-api")))
	})

	It("gives each binary's Go runtime a soft memory limit at its container's memory limit, and a GOGC", func() {
		for _, d := range typed[appsv1.Deployment]("Deployment") {
			ctr := d.Spec.Template.Spec.Containers[0]
			env := map[string]corev1.EnvVar{}
			for _, e := range ctr.Env {
				env[e.Name] = e
			}
			Expect(env).To(HaveKey("GOMEMLIMIT"), d.Name)
			ref := env["GOMEMLIMIT"].ValueFrom
			Expect(ref).NotTo(BeNil(), d.Name)
			Expect(ref.ResourceFieldRef).NotTo(BeNil(), d.Name)
			Expect(ref.ResourceFieldRef.Resource).To(Equal("limits.memory"), d.Name)
			Expect(ref.ResourceFieldRef.ContainerName).To(Equal(ctr.Name), d.Name)
			// In bytes, as the runtime reads a number without a unit.
			Expect(ref.ResourceFieldRef.Divisor.IsZero() || ref.ResourceFieldRef.Divisor.Value() == 1).To(BeTrue(), d.Name)
			Expect(env).To(HaveKey("GOGC"), d.Name)
			gogc, err := strconv.Atoi(env["GOGC"].Value)
			Expect(err).NotTo(HaveOccurred(), d.Name)
			Expect(gogc).To(BeNumerically(">", 0), d.Name)
		}
	})

	It("points the webhooks and the APIService at Services of the build that select the right pods", func() {
		services := typed[corev1.Service]("Service")
		deployments := typed[appsv1.Deployment]("Deployment")
		selects := func(namespace, name, deployment string, port int32) {
			GinkgoHelper()
			i := slices.IndexFunc(services, func(s *corev1.Service) bool { return s.Namespace == namespace && s.Name == name })
			Expect(i).NotTo(Equal(-1), "no Service %s/%s", namespace, name)
			svc := services[i]
			Expect(svc.Spec.Type).To(BeElementOf(corev1.ServiceTypeClusterIP, corev1.ServiceType("")))
			Expect(svc.Spec.ExternalName).To(BeEmpty())
			j := slices.IndexFunc(deployments, func(d *appsv1.Deployment) bool { return d.Name == deployment })
			Expect(j).NotTo(Equal(-1))
			pod := deployments[j].Spec.Template
			Expect(svc.Spec.Selector).NotTo(BeEmpty())
			Expect(labelsOf(pod.Labels)).To(Satisfy(func(l labels.Set) bool {
				for k, v := range svc.Spec.Selector {
					if l[k] != v {
						return false
					}
				}
				return true
			}), "Service %s does not select %s", name, deployment)
			k := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port })
			Expect(k).NotTo(Equal(-1), "Service %s has no port %d", name, port)
			target := svc.Spec.Ports[k].TargetPort.String()
			Expect(pod.Spec.Containers[0].Ports).To(ContainElement(SatisfyAny(
				HaveField("Name", target), HaveField("ContainerPort", svc.Spec.Ports[k].TargetPort.IntVal))))
		}
		refs := 0
		for _, o := range manifests.Select(objs, "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration") {
			Expect(o.GetName()).To(HavePrefix("kova-"))
			hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			Expect(hooks).NotTo(BeEmpty())
			for _, h := range hooks {
				svc, _, _ := unstructured.NestedStringMap(h.(map[string]any), "clientConfig", "service")
				selects(svc["namespace"], svc["name"], "kova-manager", 443)
				refs++
			}
		}
		Expect(refs).To(BeNumerically(">=", 6))
		apiServices := manifests.Select(objs, "APIService")
		Expect(apiServices).To(HaveLen(1))
		svc, _, _ := unstructured.NestedMap(apiServices[0].Object, "spec", "service")
		selects(svc["namespace"].(string), svc["name"].(string), "kova-nova-api", int32(svc["port"].(int64)))
	})

	It("binds only its own ServiceAccounts, to roles of the build or Kubernetes' own", func() {
		bound := map[string]bool{}
		check := func(binding string, ref rbacv1.RoleRef, namespace string, subjects []rbacv1.Subject) {
			GinkgoHelper()
			ours := has(ref.Kind, namespace, ref.Name) || (ref.Kind == "ClusterRole" && has("ClusterRole", "", ref.Name))
			builtin := slices.Contains([]string{"system:auth-delegator", "extension-apiserver-authentication-reader"}, ref.Name)
			Expect(ours || builtin).To(BeTrue(), "%s binds %s %s, which is neither in the build nor Kubernetes' own", binding, ref.Kind, ref.Name)
			Expect(subjects).NotTo(BeEmpty())
			for _, s := range subjects {
				Expect(s.Kind).To(Equal(rbacv1.ServiceAccountKind), binding)
				Expect(has("ServiceAccount", s.Namespace, s.Name)).To(BeTrue(), "%s binds %s/%s", binding, s.Namespace, s.Name)
				bound[s.Name] = true
			}
		}
		for _, b := range typed[rbacv1.ClusterRoleBinding]("ClusterRoleBinding") {
			check(b.Name, b.RoleRef, "", b.Subjects)
		}
		for _, b := range typed[rbacv1.RoleBinding]("RoleBinding") {
			check(b.Namespace+"/"+b.Name, b.RoleRef, b.Namespace, b.Subjects)
		}
		Expect(bound).To(Equal(map[string]bool{"kova-manager": true, "kova-nova-api": true}))
		// Nothing of Kova's holds a wildcard, nor a pattern RBAC does not match (it knows
		// "*" and "*/subresource" only: "userextras/*" grants nothing).
		rules := map[string][]rbacv1.PolicyRule{}
		for _, r := range typed[rbacv1.ClusterRole]("ClusterRole") {
			rules[r.Name] = r.Rules
		}
		for _, r := range typed[rbacv1.Role]("Role") {
			rules[r.Namespace+"/"+r.Name] = r.Rules
		}
		for name, rs := range rules {
			for _, rule := range rs {
				for _, f := range [][]string{rule.Verbs, rule.Resources, rule.APIGroups} {
					for _, v := range f {
						Expect(v).NotTo(ContainSubstring("*"), "%s: %v", name, rule)
					}
				}
			}
		}
	})
})

func labelsOf(m map[string]string) labels.Set { return labels.Set(m) }

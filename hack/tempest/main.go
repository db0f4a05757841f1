// Command tempest provisions a running Kova (`make tempest` starts one with localcp) for
// Tempest and writes Tempest's configuration: what an operator would declare for a cloud
// Tempest is pointed at, through the same objects (Users with their password Secrets,
// RoleBindings to Kova's ClusterRoles, Flavors, public Images).
//
// Tempest runs with pre-provisioned credentials (no dynamic users: Kova's users are
// Kubernetes objects, not made through Keystone's API). It locks one account per
// credential type per running test class, so --concurrency 2 needs 2 x (primary + alt)
// project accounts and one cloud-operator account per worker.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/identity"
	"github.com/kova-dev/kova/internal/rules"
)

//go:embed tempest.conf.tmpl
var confTemplate string

const (
	// identityNamespace is where nova-api reads Users (its --identity-namespace default).
	identityNamespace = "kova-system"
	// password is every Tempest account's: the accounts file holds it in clear anyway.
	password = "PASSWORD"
	// projectAccounts and operatorAccounts are how many of each --concurrency 2 needs.
	projectAccounts  = 4
	operatorAccounts = 2
	imageTimeout     = 2 * time.Minute
)

// account is one entry of Tempest's accounts.yaml.
type account struct {
	Username    string   `json:"username"`
	ProjectName string   `json:"project_name"`
	Password    string   `json:"password"`
	DomainName  string   `json:"domain_name"`
	Roles       []string `json:"roles"`
}

// flavors are devstack's two small flavors with the ids Tempest's configuration names.
var flavors = []struct {
	id, name string
	ram      int64
}{{"42", "m1.nano", 128}, {"84", "m1.micro", 192}}

// images are the two public images Tempest boots and rebuilds with.
var images = []string{"tempest-image", "tempest-image-alt"}

type options struct {
	kubeconfig, endpoint, caFile, workspace string
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "the cluster administrator's kubeconfig")
	flag.StringVar(&o.endpoint, "endpoint", "", "nova-api's direct endpoint, https://host:port")
	flag.StringVar(&o.caFile, "ca-file", "", "the CA that verifies the direct endpoint's certificate")
	flag.StringVar(&o.workspace, "workspace", "", "the Tempest workspace (etc/ gets tempest.conf and accounts.yaml)")
	flag.Parse()
	if o.kubeconfig == "" || o.endpoint == "" || o.caFile == "" || o.workspace == "" {
		fmt.Fprintln(os.Stderr, "tempest: --kubeconfig, --endpoint, --ca-file and --workspace are required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "tempest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	c, err := newClient(o.kubeconfig)
	if err != nil {
		return err
	}
	var accounts []account
	for i := 1; i <= projectAccounts; i++ {
		a, err := declareAccount(ctx, c, fmt.Sprintf("tempest-%d", i), false)
		if err != nil {
			return err
		}
		accounts = append(accounts, a)
	}
	for i := 1; i <= operatorAccounts; i++ {
		a, err := declareAccount(ctx, c, fmt.Sprintf("tempest-admin-%d", i), true)
		if err != nil {
			return err
		}
		accounts = append(accounts, a)
	}
	for _, f := range flavors {
		fl := &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: f.id},
			Spec: computev1.FlavorSpec{Name: f.name, VCPUs: 1, RAM: f.ram, Disk: 1, IsPublic: true}}
		if err := ensureCreated(ctx, c, fl); err != nil {
			return err
		}
	}
	var ids []string
	for _, name := range images {
		id, err := declareImage(ctx, c, name)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	return writeConfig(o, accounts, ids)
}

func newClient(kubeconfig string) (client.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := computev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// declareAccount makes a project (namespace) of the account's name, a User of that name
// scoped there by default, and binds it to kova-admin in it: Tempest's project member
// deletes its own servers, which Rackspace's matrix gives the account's admin only. An
// operator account is also bound to kova-cloud-admin cluster-wide, which the identity
// service shows as Keystone's admin role.
func declareAccount(ctx context.Context, c client.Client, name string, operator bool) (account, error) {
	if err := ensureCreated(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		return account{}, err
	}
	if _, err := identity.DeclareUser(ctx, c, identityNamespace, name, password, name); err != nil {
		return account{}, err
	}
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "kova:" + name}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "tempest"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kova-admin"}, Subjects: subjects}
	if err := ensureCreated(ctx, c, binding); err != nil {
		return account{}, err
	}
	// One network of the project's own, and no shared ones (run.sh): a boot that names no
	// network gets this one, as in a Nova cloud whose project has one network.
	network := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "private"},
		Spec: computev1.NetworkSpec{Label: "private", CIDR: "10.0.0.0/24"}}
	if err := ensureCreated(ctx, c, network); err != nil {
		return account{}, err
	}
	a := account{Username: name, ProjectName: name, Password: password, DomainName: "Default", Roles: []string{"member", "reader"}}
	if operator {
		cb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tempest-" + name},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kova-cloud-admin"}, Subjects: subjects}
		if err := ensureCreated(ctx, c, cb); err != nil {
			return account{}, err
		}
		a.Roles = append([]string{"admin"}, a.Roles...)
	}
	return a, nil
}

// declareImage makes a public image (a URL image, active at once) and returns its id once
// the image controller has made it active.
func declareImage(ctx context.Context, c client.Client, name string) (string, error) {
	img := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: rules.DefaultPublicNamespace, Name: name},
		Spec: computev1.ImageSpec{Name: name, Visibility: "public", DiskFormat: "qcow2", ContainerFormat: "bare",
			Source: computev1.ImageSource{URL: "quay.io/kubevirt/cirros-container-disk-demo:latest"}}}
	if err := ensureCreated(ctx, c, img); err != nil {
		return "", err
	}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, imageTimeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(img), img); err != nil {
			return false, err
		}
		return img.Status.Status == computev1.ImageActive, nil
	})
	if err != nil {
		return "", fmt.Errorf("the image %s did not become active: %w", name, err)
	}
	return string(img.UID), nil
}

func ensureCreated(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

// writeConfig writes etc/accounts.yaml and etc/tempest.conf in the workspace.
func writeConfig(o options, accounts []account, imageIDs []string) error {
	etc := filepath.Join(o.workspace, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return err
	}
	out, err := yaml.Marshal(accounts)
	if err != nil {
		return err
	}
	accountsFile := filepath.Join(etc, "accounts.yaml")
	if err := os.WriteFile(accountsFile, out, 0o600); err != nil {
		return err
	}
	tmpl, err := template.New("tempest.conf").Parse(confTemplate)
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(etc, "tempest.conf"))
	if err != nil {
		return err
	}
	err = tmpl.Execute(f, map[string]string{
		"Workspace": o.workspace, "Accounts": accountsFile, "CAFile": o.caFile,
		"IdentityURI": o.endpoint + identity.PathPrefix + "/v3",
		"Image":       imageIDs[0], "ImageAlt": imageIDs[1], "Flavor": flavors[0].id, "FlavorAlt": flavors[1].id,
	})
	return errors.Join(err, f.Close())
}

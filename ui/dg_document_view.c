#include "dg_document_view.h"

typedef struct {
  DgDocument *document;
  GPtrArray *bindings; // GBinding refs, unbound when the document changes
} DgDocumentViewPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(DgDocumentView, dg_document_view, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_DOCUMENT, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_STATUS, N_SIGNALS };
static guint signals[N_SIGNALS];

static void unbind(gpointer binding) {
  g_binding_unbind(binding);
  g_object_unref(binding);
}

DgDocument *dg_document_view_get_document(DgDocumentView *self) {
  DgDocumentViewPrivate *priv = dg_document_view_get_instance_private(self);
  return priv->document;
}

void dg_document_view_set_document(DgDocumentView *self, DgDocument *doc) {
  DgDocumentViewPrivate *priv = dg_document_view_get_instance_private(self);
  if (priv->document == doc || !priv->bindings) return; // the same, or disposed
  g_ptr_array_set_size(priv->bindings, 0);
  if (priv->document) g_signal_handlers_disconnect_by_data(priv->document, self);
  g_set_object(&priv->document, doc);
  DgDocumentViewClass *klass = DG_DOCUMENT_VIEW_GET_CLASS(self);
  if (klass->document_changed) klass->document_changed(self, doc);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DOCUMENT]);
}

void dg_document_view_bind(DgDocumentView *self, gpointer source, const char *property, gpointer target,
                           const char *target_property, GBindingFlags flags, GBindingTransformFunc to,
                           GBindingTransformFunc from, gpointer user_data) {
  DgDocumentViewPrivate *priv = dg_document_view_get_instance_private(self);
  GBinding *b =
      g_object_bind_property_full(source, property, target, target_property, flags, to, from, user_data, NULL);
  g_ptr_array_add(priv->bindings, g_object_ref(b));
}

void dg_document_view_connect(DgDocumentView *self, const char *signal, GCallback handler) {
  DgDocumentViewPrivate *priv = dg_document_view_get_instance_private(self);
  g_return_if_fail(priv->document != NULL);
  g_signal_connect_object(priv->document, signal, handler, self, 0);
}

void dg_document_view_status(DgDocumentView *self, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_signal_emit(self, signals[SIGNAL_STATUS], 0, text);
  g_free(text);
}

void dg_widget_class_set_template(GtkWidgetClass *klass, const char *resource, const dg_template_child *children,
                                  size_t n_children) {
  gtk_widget_class_set_template_from_resource(klass, resource);
  for (size_t i = 0; i < n_children; i++)
    gtk_widget_class_bind_template_child_full(klass, children[i].id, FALSE, children[i].offset);
}

void dg_widget_compute_expand_from_children(GtkWidget *widget, gboolean *hexpand, gboolean *vexpand) {
  *hexpand = *vexpand = FALSE;
  for (GtkWidget *c = gtk_widget_get_first_child(widget); c; c = gtk_widget_get_next_sibling(c)) {
    *hexpand = *hexpand || gtk_widget_compute_expand(c, GTK_ORIENTATION_HORIZONTAL);
    *vexpand = *vexpand || gtk_widget_compute_expand(c, GTK_ORIENTATION_VERTICAL);
  }
}

static void dg_document_view_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  if (id == PROP_DOCUMENT)
    g_value_set_object(value, dg_document_view_get_document(DG_DOCUMENT_VIEW(object)));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_document_view_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  if (id == PROP_DOCUMENT)
    dg_document_view_set_document(DG_DOCUMENT_VIEW(object), g_value_get_object(value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void dg_document_view_dispose(GObject *object) {
  DgDocumentView *self = DG_DOCUMENT_VIEW(object);
  DgDocumentViewPrivate *priv = dg_document_view_get_instance_private(self);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(self))))
    gtk_widget_unparent(child);
  g_clear_pointer(&priv->bindings, g_ptr_array_unref);
  if (priv->document) g_signal_handlers_disconnect_by_data(priv->document, self);
  g_clear_object(&priv->document);
  G_OBJECT_CLASS(dg_document_view_parent_class)->dispose(object);
}

static void dg_document_view_class_init(DgDocumentViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = dg_document_view_get_property;
  oc->set_property = dg_document_view_set_property;
  oc->dispose = dg_document_view_dispose;
  GTK_WIDGET_CLASS(klass)->compute_expand = dg_widget_compute_expand_from_children;
  props[PROP_DOCUMENT] = g_param_spec_object("document", NULL, NULL, DG_TYPE_DOCUMENT,
                                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties(oc, N_PROPS, props);
  signals[SIGNAL_STATUS] = g_signal_new("status", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void dg_document_view_init(DgDocumentView *self) {
  DgDocumentViewPrivate *priv = dg_document_view_get_instance_private(self);
  priv->bindings = g_ptr_array_new_with_free_func(unbind);
}

char *dg_paintable_describe(GdkPaintable *p) {
  if (!p || !GDK_IS_TEXTURE(p)) return g_strdup("");
  GdkTexture *t = GDK_TEXTURE(p);
  int w = gdk_texture_get_width(t), h = gdk_texture_get_height(t);
  guchar *px = g_malloc((gsize)w * h * 4);
  gdk_texture_download(t, px, (gsize)w * 4);
  char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, px, (gsize)w * h * 4);
  char *out = g_strdup_printf("%dx%d %s", w, h, sum);
  g_free(sum), g_free(px);
  return out;
}

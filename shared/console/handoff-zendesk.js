"use strict";
/*
 * Handoff — Zendesk settings component.
 *
 * One file, no build step, no dependencies. Defines:
 *   <handoff-zendesk>    the settings card (attributes: api-base, bot-id, token, lang, theme,
 *                        oauth-return-url; property getToken = async () => jwt)
 *   <handoff-oauth-done> the OAuth popup's landing (tells the card that opened it, then closes)
 *   <handoff-console>    the console page around the card (OpenID Connect sign-in with PKCE)
 * Works as a classic <script src> and as a module. Builds the DOM with createElement and
 * textContent only; makes no request but the Handoff API's (and the console's sign-in).
 */
(function () {
  "use strict";
  if (typeof window === "undefined" || !window.customElements) return;
  if (window.customElements.get("handoff-zendesk")) return;

  // ---------------------------------------------------------------------------------------------
  // Strings: one table per language, identical keys. `{name}` is replaced by t(); other braces
  // (such as `{ticket_id}`) are shown as written.
  // ---------------------------------------------------------------------------------------------
  const STRINGS = {};

  STRINGS.en = {
    cardTitle: "Zendesk handoff", loading: "Loading…", retry: "Retry", working: "Working…",
    networkError: "Handoff could not be reached. Check your connection and try again.",
    unauthorized: "Your session has expired or the token is not valid.",
    forbidden: "You are not allowed to do this.",
    errorStatus: "The request failed (HTTP {status}).",
    noBot: "No bot is chosen (the bot-id attribute is missing).",
    tabConnection: "Connection", tabDiagnostics: "Diagnostics", tabRules: "Escalation rules",
    tabMapping: "Field mapping", tabMessages: "Messages & callback", tabActivity: "Activity",
    // Connection
    stateConnected: "Connected", stateDisconnected: "Not connected", stateReconnect: "Reconnect required",
    subdomain: "Subdomain", mode: "Mode", modeOauth: "OAuth", modeClientCredentials: "Client credentials",
    modeApiToken: "API token", user: "Connected user", scopes: "Scopes",
    accessExpires: "Access token expires", refreshExpires: "Refresh token expires",
    lastRefresh: "Last refresh", warnings: "Warnings",
    reconnectExplain: "Zendesk no longer accepts this connection; reconnect.", reconnect: "Reconnect",
    oauthHeading: "Connect with Zendesk (OAuth)", connectSubdomain: "Zendesk subdomain",
    subdomainHint: "For example acme, from acme.zendesk.com.", connectOauth: "Connect with Zendesk",
    subdomainRequired: "Enter your Zendesk subdomain.",
    oauthWaiting: "Finish in the Zendesk window…",
    popupBlocked: "The Zendesk window could not open. Continue here:",
    openZendesk: "Open Zendesk to authorize",
    oauthFailed: "Zendesk was not connected: {reason}", oauthDone: "Zendesk is connected.",
    apiTokenHeading: "Legacy API token",
    legacyNote: "Zendesk switches legacy API tokens off on {date}; prefer OAuth.",
    apiTokenEmail: "Agent email", apiToken: "API token", apiTokenSubmit: "Connect with API token",
    disconnect: "Disconnect", disconnectTitle: "Disconnect Zendesk?",
    disconnectText: "Handoff forgets the credentials and the callback secret; tickets stay in Zendesk.",
    disconnectConfirm: "Disconnect", cancel: "Cancel", disconnected: "Zendesk is disconnected.",
    // Diagnostics
    diagIntro: "Checks the connection, the webhook and the settings against Zendesk.",
    runDiagnostics: "Run diagnostics", statusPass: "Pass", statusWarn: "Warning", statusFail: "Fail",
    overall: "Overall", fix: "Fix:", diagNone: "No checks were answered.",
    // Rules
    rulesLegend: "Escalate to a person when",
    ruleExplicit: "Explicit request", ruleExplicitHint: "The visitor asks for a person.",
    ruleLowConfidence: "Low confidence", ruleLowConfidenceHint: "The bot is less sure of its answer than the threshold.",
    ruleLowRating: "Low rating", ruleLowRatingHint: "The visitor rates an answer at or below the limit, or gives a thumbs down.",
    ruleAction: "Action", ruleActionHint: "The bot runs one of the actions listed below.",
    ruleManual: "Manual", ruleManualHint: "Someone escalates by hand, from this console or the API.",
    threshold: "Confidence threshold (0–1)", atOrBelow: "Rating at or below", scale: "Rating scale (highest rating)",
    thumbsDown: "A thumbs down escalates", actions: "Actions (one name per line)",
    extraPhrases: "Extra phrases", extraPhrasesHint: "Phrases that count as asking for a person, grouped by language.",
    exclusions: "Exclusions", exclusionsHint: "Phrases that must never escalate, such as a product name.",
    langCode: "Language code", phrases: "Phrases (one per line)", addLanguage: "Add a language", remove: "Remove",
    tryHeading: "Try a message", tryMessage: "Visitor message", trySubmit: "Try",
    tryHint: "Uses the rules as they are in this form, saved or not.",
    wouldEscalate: "Would escalate", wouldNot: "Would not escalate", heard: "Heard: {text}",
    saveRules: "Save rules",
    // Mapping
    fieldsNotConnected: "Connect Zendesk to pick fields.",
    fieldConversationUrl: "Conversation link field", fieldRating: "Rating field", noneOption: "— none —",
    unknownField: "Unknown field #{id}", fieldById: "Field #{id}", inactive: "(inactive)",
    metadataFields: "Metadata fields", metadataHint: "A conversation metadata key, and the ticket field it fills.",
    metadataKey: "Metadata key", ticketField: "Ticket field", addField: "Add a field",
    placeholderDomain: "Placeholder email domain",
    placeholderHint: "Used for the requester's email when the visitor gave none.",
    extraTags: "Extra tags", extraTagsHint: "Separated by commas or spaces.",
    summaryPublic: "Make the bot's summary the ticket's public first comment",
    priorityHeading: "Priority per rule", priorityDefault: "Default", priorityLow: "Low",
    priorityNormal: "Normal", priorityHigh: "High", priorityUrgent: "Urgent",
    saveMapping: "Save mapping",
    // Messages & callback
    messagesHeading: "Handoff messages",
    messagesHint: "What the visitor reads when a ticket is made; {ticket_id} is replaced by the ticket number. An empty message uses Handoff's own text, shown in grey.",
    messageFor: "Message ({locale})", newLocale: "New language code", addLocale: "Add",
    callbackHeading: "Callback", callbackUrl: "Callback URL",
    callbackHint: "Agent replies and status changes are sent here (HTTPS). Leave empty for none.",
    secretSet: "A secret is set.", secretNotSet: "No secret is set yet.", rotateSecret: "Make a new secret",
    secretLabel: "Callback secret", secretNote: "Shown once; store it now.", copy: "Copy", copied: "Copied.",
    saveMessages: "Save messages",
    // Saving
    saving: "Saving…", saved: "Saved", stale: "Changed elsewhere — reload", reload: "Reload",
    invalid: "Some fields need attention.",
    // Activity
    auditHeading: "Audit trail", colTime: "Time", colAction: "Action", colOutcome: "Outcome",
    colActor: "Actor", colDetail: "Detail", more: "Load more", auditEmpty: "No entries yet.",
    escalationsHeading: "Unfinished escalations", colConversation: "Conversation", colAge: "Age",
    colState: "State", colRule: "Rule", colAttempts: "Attempts", colError: "Last error",
    escalationsEmpty: "No unfinished escalations.", statePending: "Pending", stateFailed: "Failed",
    refresh: "Refresh",
    manualHeading: "Escalate by hand", manualConversation: "Conversation id",
    manualSubject: "Subject (optional)", manualSubmit: "Escalate",
    conversationRequired: "Enter a conversation id.",
    ticketCreated: "Ticket #{id} was created.", ticketExisting: "Already on ticket #{id}.",
    pending: "Pending: Handoff will finish it shortly.", notEscalated: "Not escalated: {reason}",
    // Console
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Language", signIn: "Sign in",
    signInIntro: "Sign in to manage this bot's Zendesk connection.", signingIn: "Signing in…",
    sessionExpired: "Session expired — sign in again", signInFailed: "Sign-in failed: {reason}",
    stateMismatch: "the answer does not belong to this sign-in; try again",
    notConfigured: "Sign-in is not configured for this console (ConsoleIssuer and ConsoleClientId).",
    noBotConsole: "No bot is chosen: open the console with ?bot=your-bot-id.",
    // OAuth landing
    doneConnected: "Zendesk is connected.", doneError: "Zendesk was not connected.",
    doneReason: "Reason: {reason}", doneUnknown: "This page is where Zendesk sends you back after connecting.",
    doneClose: "You can close this window.",
  };

  STRINGS.es = {
    cardTitle: "Traspaso a Zendesk", loading: "Cargando…", retry: "Reintentar", working: "Trabajando…",
    networkError: "No se pudo contactar con Handoff. Compruebe su conexión e inténtelo de nuevo.",
    unauthorized: "Su sesión ha caducado o el token no es válido.",
    forbidden: "No tiene permiso para hacer esto.",
    errorStatus: "La solicitud falló (HTTP {status}).",
    noBot: "No se ha elegido ningún bot (falta el atributo bot-id).",
    tabConnection: "Conexión", tabDiagnostics: "Diagnóstico", tabRules: "Reglas de escalado",
    tabMapping: "Asignación de campos", tabMessages: "Mensajes y callback", tabActivity: "Actividad",
    stateConnected: "Conectado", stateDisconnected: "No conectado", stateReconnect: "Hay que volver a conectar",
    subdomain: "Subdominio", mode: "Modo", modeOauth: "OAuth", modeClientCredentials: "Credenciales de cliente",
    modeApiToken: "Token de API", user: "Usuario conectado", scopes: "Permisos",
    accessExpires: "El token de acceso caduca", refreshExpires: "El token de renovación caduca",
    lastRefresh: "Última renovación", warnings: "Avisos",
    reconnectExplain: "Zendesk ya no acepta esta conexión; vuelva a conectar.", reconnect: "Volver a conectar",
    oauthHeading: "Conectar con Zendesk (OAuth)", connectSubdomain: "Subdominio de Zendesk",
    subdomainHint: "Por ejemplo acme, de acme.zendesk.com.", connectOauth: "Conectar con Zendesk",
    subdomainRequired: "Introduzca su subdominio de Zendesk.",
    oauthWaiting: "Termine en la ventana de Zendesk…",
    popupBlocked: "No se pudo abrir la ventana de Zendesk. Continúe aquí:",
    openZendesk: "Abrir Zendesk para autorizar",
    oauthFailed: "Zendesk no se conectó: {reason}", oauthDone: "Zendesk está conectado.",
    apiTokenHeading: "Token de API heredado",
    legacyNote: "Zendesk desactiva los tokens de API heredados el {date}; es preferible OAuth.",
    apiTokenEmail: "Correo del agente", apiToken: "Token de API", apiTokenSubmit: "Conectar con token de API",
    disconnect: "Desconectar", disconnectTitle: "¿Desconectar Zendesk?",
    disconnectText: "Handoff olvida las credenciales y el secreto del callback; los tickets se quedan en Zendesk.",
    disconnectConfirm: "Desconectar", cancel: "Cancelar", disconnected: "Zendesk está desconectado.",
    diagIntro: "Comprueba la conexión, el webhook y los ajustes con Zendesk.",
    runDiagnostics: "Ejecutar diagnóstico", statusPass: "Correcto", statusWarn: "Aviso", statusFail: "Error",
    overall: "Resultado", fix: "Solución:", diagNone: "No se recibió ninguna comprobación.",
    rulesLegend: "Pasar a una persona cuando",
    ruleExplicit: "Petición explícita", ruleExplicitHint: "El visitante pide hablar con una persona.",
    ruleLowConfidence: "Confianza baja", ruleLowConfidenceHint: "El bot está menos seguro de su respuesta que el umbral.",
    ruleLowRating: "Valoración baja", ruleLowRatingHint: "El visitante valora una respuesta en el límite o por debajo, o pulsa el pulgar abajo.",
    ruleAction: "Acción", ruleActionHint: "El bot ejecuta una de las acciones de la lista.",
    ruleManual: "Manual", ruleManualHint: "Alguien escala a mano, desde esta consola o la API.",
    threshold: "Umbral de confianza (0–1)", atOrBelow: "Valoración igual o inferior a", scale: "Escala de valoración (máximo)",
    thumbsDown: "Un pulgar abajo escala", actions: "Acciones (un nombre por línea)",
    extraPhrases: "Frases adicionales", extraPhrasesHint: "Frases que cuentan como pedir una persona, agrupadas por idioma.",
    exclusions: "Exclusiones", exclusionsHint: "Frases que nunca deben escalar, como el nombre de un producto.",
    langCode: "Código de idioma", phrases: "Frases (una por línea)", addLanguage: "Añadir un idioma", remove: "Quitar",
    tryHeading: "Probar un mensaje", tryMessage: "Mensaje del visitante", trySubmit: "Probar",
    tryHint: "Usa las reglas tal como están en este formulario, guardadas o no.",
    wouldEscalate: "Se escalaría", wouldNot: "No se escalaría", heard: "Detectado: {text}",
    saveRules: "Guardar reglas",
    fieldsNotConnected: "Conecte Zendesk para elegir campos.",
    fieldConversationUrl: "Campo del enlace a la conversación", fieldRating: "Campo de valoración", noneOption: "— ninguno —",
    unknownField: "Campo desconocido #{id}", fieldById: "Campo #{id}", inactive: "(inactivo)",
    metadataFields: "Campos de metadatos", metadataHint: "Una clave de metadatos de la conversación y el campo del ticket que rellena.",
    metadataKey: "Clave de metadatos", ticketField: "Campo del ticket", addField: "Añadir un campo",
    placeholderDomain: "Dominio del correo provisional",
    placeholderHint: "Se usa para el correo del solicitante cuando el visitante no dio ninguno.",
    extraTags: "Etiquetas adicionales", extraTagsHint: "Separadas por comas o espacios.",
    summaryPublic: "Usar el resumen del bot como primer comentario público del ticket",
    priorityHeading: "Prioridad por regla", priorityDefault: "Predeterminada", priorityLow: "Baja",
    priorityNormal: "Normal", priorityHigh: "Alta", priorityUrgent: "Urgente",
    saveMapping: "Guardar asignación",
    messagesHeading: "Mensajes de traspaso",
    messagesHint: "Lo que lee el visitante cuando se crea un ticket; {ticket_id} se sustituye por el número del ticket. Un mensaje vacío usa el texto propio de Handoff, que se ve en gris.",
    messageFor: "Mensaje ({locale})", newLocale: "Nuevo código de idioma", addLocale: "Añadir",
    callbackHeading: "Callback", callbackUrl: "URL de callback",
    callbackHint: "Las respuestas de los agentes y los cambios de estado se envían aquí (HTTPS). Déjelo vacío si no hay.",
    secretSet: "Hay un secreto configurado.", secretNotSet: "Todavía no hay secreto.", rotateSecret: "Crear un secreto nuevo",
    secretLabel: "Secreto del callback", secretNote: "Se muestra una sola vez; guárdelo ahora.", copy: "Copiar", copied: "Copiado.",
    saveMessages: "Guardar mensajes",
    saving: "Guardando…", saved: "Guardado", stale: "Modificado en otro lugar — recargue", reload: "Recargar",
    invalid: "Algunos campos requieren atención.",
    auditHeading: "Registro de auditoría", colTime: "Hora", colAction: "Acción", colOutcome: "Resultado",
    colActor: "Autor", colDetail: "Detalle", more: "Cargar más", auditEmpty: "Aún no hay entradas.",
    escalationsHeading: "Escalados sin terminar", colConversation: "Conversación", colAge: "Antigüedad",
    colState: "Estado", colRule: "Regla", colAttempts: "Intentos", colError: "Último error",
    escalationsEmpty: "No hay escalados sin terminar.", statePending: "Pendiente", stateFailed: "Fallido",
    refresh: "Actualizar",
    manualHeading: "Escalar a mano", manualConversation: "Id de la conversación",
    manualSubject: "Asunto (opcional)", manualSubmit: "Escalar",
    conversationRequired: "Introduzca un id de conversación.",
    ticketCreated: "Se creó el ticket #{id}.", ticketExisting: "Ya está en el ticket #{id}.",
    pending: "Pendiente: Handoff lo terminará en breve.", notEscalated: "No escalado: {reason}",
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Idioma", signIn: "Iniciar sesión",
    signInIntro: "Inicie sesión para gestionar la conexión de este bot con Zendesk.", signingIn: "Iniciando sesión…",
    sessionExpired: "Sesión caducada — vuelva a iniciar sesión", signInFailed: "Falló el inicio de sesión: {reason}",
    stateMismatch: "la respuesta no corresponde a este inicio de sesión; inténtelo de nuevo",
    notConfigured: "El inicio de sesión no está configurado en esta consola (ConsoleIssuer y ConsoleClientId).",
    noBotConsole: "No se ha elegido ningún bot: abra la consola con ?bot=id-de-su-bot.",
    doneConnected: "Zendesk está conectado.", doneError: "Zendesk no se conectó.",
    doneReason: "Motivo: {reason}", doneUnknown: "Zendesk le envía a esta página al terminar la conexión.",
    doneClose: "Puede cerrar esta ventana.",
  };

  STRINGS.fr = {
    cardTitle: "Transfert vers Zendesk", loading: "Chargement…", retry: "Réessayer", working: "En cours…",
    networkError: "Impossible de joindre Handoff. Vérifiez votre connexion et réessayez.",
    unauthorized: "Votre session a expiré ou le jeton n'est pas valide.",
    forbidden: "Vous n'êtes pas autorisé à faire cela.",
    errorStatus: "La requête a échoué (HTTP {status}).",
    noBot: "Aucun bot n'est choisi (l'attribut bot-id manque).",
    tabConnection: "Connexion", tabDiagnostics: "Diagnostic", tabRules: "Règles d'escalade",
    tabMapping: "Correspondance des champs", tabMessages: "Messages et callback", tabActivity: "Activité",
    stateConnected: "Connecté", stateDisconnected: "Non connecté", stateReconnect: "Reconnexion nécessaire",
    subdomain: "Sous-domaine", mode: "Mode", modeOauth: "OAuth", modeClientCredentials: "Identifiants client",
    modeApiToken: "Jeton d'API", user: "Utilisateur connecté", scopes: "Portées",
    accessExpires: "Le jeton d'accès expire", refreshExpires: "Le jeton de renouvellement expire",
    lastRefresh: "Dernier renouvellement", warnings: "Avertissements",
    reconnectExplain: "Zendesk n'accepte plus cette connexion ; reconnectez-vous.", reconnect: "Reconnecter",
    oauthHeading: "Se connecter avec Zendesk (OAuth)", connectSubdomain: "Sous-domaine Zendesk",
    subdomainHint: "Par exemple acme, pour acme.zendesk.com.", connectOauth: "Se connecter avec Zendesk",
    subdomainRequired: "Saisissez votre sous-domaine Zendesk.",
    oauthWaiting: "Terminez dans la fenêtre Zendesk…",
    popupBlocked: "La fenêtre Zendesk n'a pas pu s'ouvrir. Continuez ici :",
    openZendesk: "Ouvrir Zendesk pour autoriser",
    oauthFailed: "Zendesk n'a pas été connecté : {reason}", oauthDone: "Zendesk est connecté.",
    apiTokenHeading: "Jeton d'API historique",
    legacyNote: "Zendesk désactive les jetons d'API historiques le {date} ; préférez OAuth.",
    apiTokenEmail: "E-mail de l'agent", apiToken: "Jeton d'API", apiTokenSubmit: "Se connecter avec un jeton d'API",
    disconnect: "Déconnecter", disconnectTitle: "Déconnecter Zendesk ?",
    disconnectText: "Handoff oublie les identifiants et le secret du callback ; les tickets restent dans Zendesk.",
    disconnectConfirm: "Déconnecter", cancel: "Annuler", disconnected: "Zendesk est déconnecté.",
    diagIntro: "Vérifie la connexion, le webhook et les paramètres auprès de Zendesk.",
    runDiagnostics: "Lancer le diagnostic", statusPass: "Réussi", statusWarn: "Avertissement", statusFail: "Échec",
    overall: "Bilan", fix: "Correction :", diagNone: "Aucune vérification n'a été renvoyée.",
    rulesLegend: "Passer à une personne quand",
    ruleExplicit: "Demande explicite", ruleExplicitHint: "Le visiteur demande à parler à une personne.",
    ruleLowConfidence: "Confiance faible", ruleLowConfidenceHint: "Le bot est moins sûr de sa réponse que le seuil.",
    ruleLowRating: "Note faible", ruleLowRatingHint: "Le visiteur note une réponse au niveau de la limite ou en dessous, ou met un pouce vers le bas.",
    ruleAction: "Action", ruleActionHint: "Le bot exécute l'une des actions listées ci-dessous.",
    ruleManual: "Manuelle", ruleManualHint: "Quelqu'un escalade à la main, depuis cette console ou l'API.",
    threshold: "Seuil de confiance (0–1)", atOrBelow: "Note inférieure ou égale à", scale: "Échelle de notation (maximum)",
    thumbsDown: "Un pouce vers le bas escalade", actions: "Actions (un nom par ligne)",
    extraPhrases: "Phrases supplémentaires", extraPhrasesHint: "Phrases qui valent une demande de personne, groupées par langue.",
    exclusions: "Exclusions", exclusionsHint: "Phrases qui ne doivent jamais escalader, comme un nom de produit.",
    langCode: "Code de langue", phrases: "Phrases (une par ligne)", addLanguage: "Ajouter une langue", remove: "Retirer",
    tryHeading: "Essayer un message", tryMessage: "Message du visiteur", trySubmit: "Essayer",
    tryHint: "Utilise les règles telles qu'elles sont dans ce formulaire, enregistrées ou non.",
    wouldEscalate: "Escaladerait", wouldNot: "N'escaladerait pas", heard: "Entendu : {text}",
    saveRules: "Enregistrer les règles",
    fieldsNotConnected: "Connectez Zendesk pour choisir les champs.",
    fieldConversationUrl: "Champ du lien de conversation", fieldRating: "Champ de note", noneOption: "— aucun —",
    unknownField: "Champ inconnu #{id}", fieldById: "Champ #{id}", inactive: "(inactif)",
    metadataFields: "Champs de métadonnées", metadataHint: "Une clé de métadonnées de la conversation et le champ de ticket qu'elle remplit.",
    metadataKey: "Clé de métadonnées", ticketField: "Champ de ticket", addField: "Ajouter un champ",
    placeholderDomain: "Domaine de l'e-mail provisoire",
    placeholderHint: "Sert à l'e-mail du demandeur quand le visiteur n'en a pas donné.",
    extraTags: "Balises supplémentaires", extraTagsHint: "Séparées par des virgules ou des espaces.",
    summaryPublic: "Faire du résumé du bot le premier commentaire public du ticket",
    priorityHeading: "Priorité par règle", priorityDefault: "Par défaut", priorityLow: "Basse",
    priorityNormal: "Normale", priorityHigh: "Haute", priorityUrgent: "Urgente",
    saveMapping: "Enregistrer la correspondance",
    messagesHeading: "Messages de transfert",
    messagesHint: "Ce que lit le visiteur quand un ticket est créé ; {ticket_id} est remplacé par le numéro du ticket. Un message vide reprend le texte de Handoff, affiché en gris.",
    messageFor: "Message ({locale})", newLocale: "Nouveau code de langue", addLocale: "Ajouter",
    callbackHeading: "Callback", callbackUrl: "URL de callback",
    callbackHint: "Les réponses des agents et les changements de statut sont envoyés ici (HTTPS). Laissez vide pour aucun.",
    secretSet: "Un secret est défini.", secretNotSet: "Aucun secret n'est encore défini.", rotateSecret: "Créer un nouveau secret",
    secretLabel: "Secret du callback", secretNote: "Affiché une seule fois ; conservez-le maintenant.", copy: "Copier", copied: "Copié.",
    saveMessages: "Enregistrer les messages",
    saving: "Enregistrement…", saved: "Enregistré", stale: "Modifié ailleurs — rechargez", reload: "Recharger",
    invalid: "Certains champs sont à corriger.",
    auditHeading: "Journal d'audit", colTime: "Heure", colAction: "Action", colOutcome: "Résultat",
    colActor: "Auteur", colDetail: "Détail", more: "Charger plus", auditEmpty: "Aucune entrée pour l'instant.",
    escalationsHeading: "Escalades inachevées", colConversation: "Conversation", colAge: "Âge",
    colState: "État", colRule: "Règle", colAttempts: "Tentatives", colError: "Dernière erreur",
    escalationsEmpty: "Aucune escalade inachevée.", statePending: "En attente", stateFailed: "Échouée",
    refresh: "Actualiser",
    manualHeading: "Escalader à la main", manualConversation: "Id de la conversation",
    manualSubject: "Objet (facultatif)", manualSubmit: "Escalader",
    conversationRequired: "Saisissez un id de conversation.",
    ticketCreated: "Le ticket #{id} a été créé.", ticketExisting: "Déjà sur le ticket #{id}.",
    pending: "En attente : Handoff va la terminer sous peu.", notEscalated: "Pas escaladé : {reason}",
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Langue", signIn: "Se connecter",
    signInIntro: "Connectez-vous pour gérer la connexion Zendesk de ce bot.", signingIn: "Connexion…",
    sessionExpired: "Session expirée — reconnectez-vous", signInFailed: "Échec de la connexion : {reason}",
    stateMismatch: "la réponse ne correspond pas à cette connexion ; réessayez",
    notConfigured: "La connexion n'est pas configurée pour cette console (ConsoleIssuer et ConsoleClientId).",
    noBotConsole: "Aucun bot n'est choisi : ouvrez la console avec ?bot=id-de-votre-bot.",
    doneConnected: "Zendesk est connecté.", doneError: "Zendesk n'a pas été connecté.",
    doneReason: "Motif : {reason}", doneUnknown: "Zendesk vous renvoie sur cette page après la connexion.",
    doneClose: "Vous pouvez fermer cette fenêtre.",
  };

  STRINGS.de = {
    cardTitle: "Übergabe an Zendesk", loading: "Wird geladen…", retry: "Erneut versuchen", working: "Wird ausgeführt…",
    networkError: "Handoff ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
    unauthorized: "Ihre Sitzung ist abgelaufen oder das Token ist ungültig.",
    forbidden: "Sie dürfen das nicht tun.",
    errorStatus: "Die Anfrage ist fehlgeschlagen (HTTP {status}).",
    noBot: "Kein Bot gewählt (das Attribut bot-id fehlt).",
    tabConnection: "Verbindung", tabDiagnostics: "Diagnose", tabRules: "Eskalationsregeln",
    tabMapping: "Feldzuordnung", tabMessages: "Nachrichten & Callback", tabActivity: "Aktivität",
    stateConnected: "Verbunden", stateDisconnected: "Nicht verbunden", stateReconnect: "Neu verbinden nötig",
    subdomain: "Subdomain", mode: "Modus", modeOauth: "OAuth", modeClientCredentials: "Client-Zugangsdaten",
    modeApiToken: "API-Token", user: "Verbundener Benutzer", scopes: "Berechtigungen",
    accessExpires: "Zugriffstoken läuft ab", refreshExpires: "Erneuerungstoken läuft ab",
    lastRefresh: "Letzte Erneuerung", warnings: "Warnungen",
    reconnectExplain: "Zendesk akzeptiert diese Verbindung nicht mehr; verbinden Sie neu.", reconnect: "Neu verbinden",
    oauthHeading: "Mit Zendesk verbinden (OAuth)", connectSubdomain: "Zendesk-Subdomain",
    subdomainHint: "Zum Beispiel acme, aus acme.zendesk.com.", connectOauth: "Mit Zendesk verbinden",
    subdomainRequired: "Geben Sie Ihre Zendesk-Subdomain ein.",
    oauthWaiting: "Schließen Sie den Vorgang im Zendesk-Fenster ab…",
    popupBlocked: "Das Zendesk-Fenster konnte nicht geöffnet werden. Hier weiter:",
    openZendesk: "Zendesk zum Autorisieren öffnen",
    oauthFailed: "Zendesk wurde nicht verbunden: {reason}", oauthDone: "Zendesk ist verbunden.",
    apiTokenHeading: "Altes API-Token",
    legacyNote: "Zendesk schaltet alte API-Tokens am {date} ab; nutzen Sie besser OAuth.",
    apiTokenEmail: "E-Mail des Agenten", apiToken: "API-Token", apiTokenSubmit: "Mit API-Token verbinden",
    disconnect: "Trennen", disconnectTitle: "Zendesk trennen?",
    disconnectText: "Handoff vergisst die Zugangsdaten und das Callback-Geheimnis; die Tickets bleiben in Zendesk.",
    disconnectConfirm: "Trennen", cancel: "Abbrechen", disconnected: "Zendesk ist getrennt.",
    diagIntro: "Prüft die Verbindung, den Webhook und die Einstellungen bei Zendesk.",
    runDiagnostics: "Diagnose starten", statusPass: "Bestanden", statusWarn: "Warnung", statusFail: "Fehler",
    overall: "Gesamt", fix: "Behebung:", diagNone: "Es kamen keine Prüfungen zurück.",
    rulesLegend: "An einen Menschen übergeben, wenn",
    ruleExplicit: "Ausdrücklicher Wunsch", ruleExplicitHint: "Der Besucher verlangt nach einem Menschen.",
    ruleLowConfidence: "Geringe Sicherheit", ruleLowConfidenceHint: "Der Bot ist sich seiner Antwort weniger sicher als der Schwellenwert.",
    ruleLowRating: "Schlechte Bewertung", ruleLowRatingHint: "Der Besucher bewertet eine Antwort mit dem Grenzwert oder schlechter, oder mit Daumen runter.",
    ruleAction: "Aktion", ruleActionHint: "Der Bot führt eine der unten genannten Aktionen aus.",
    ruleManual: "Manuell", ruleManualHint: "Jemand eskaliert von Hand, über diese Konsole oder die API.",
    threshold: "Sicherheitsschwelle (0–1)", atOrBelow: "Bewertung höchstens", scale: "Bewertungsskala (Höchstwert)",
    thumbsDown: "Daumen runter eskaliert", actions: "Aktionen (ein Name pro Zeile)",
    extraPhrases: "Zusätzliche Wendungen", extraPhrasesHint: "Wendungen, die als Wunsch nach einem Menschen gelten, nach Sprache gruppiert.",
    exclusions: "Ausnahmen", exclusionsHint: "Wendungen, die nie eskalieren dürfen, etwa ein Produktname.",
    langCode: "Sprachcode", phrases: "Wendungen (eine pro Zeile)", addLanguage: "Sprache hinzufügen", remove: "Entfernen",
    tryHeading: "Nachricht ausprobieren", tryMessage: "Nachricht des Besuchers", trySubmit: "Ausprobieren",
    tryHint: "Verwendet die Regeln, wie sie in diesem Formular stehen, gespeichert oder nicht.",
    wouldEscalate: "Würde eskalieren", wouldNot: "Würde nicht eskalieren", heard: "Erkannt: {text}",
    saveRules: "Regeln speichern",
    fieldsNotConnected: "Verbinden Sie Zendesk, um Felder auszuwählen.",
    fieldConversationUrl: "Feld für den Gesprächslink", fieldRating: "Feld für die Bewertung", noneOption: "— keines —",
    unknownField: "Unbekanntes Feld #{id}", fieldById: "Feld #{id}", inactive: "(inaktiv)",
    metadataFields: "Metadatenfelder", metadataHint: "Ein Metadatenschlüssel des Gesprächs und das Ticketfeld, das er füllt.",
    metadataKey: "Metadatenschlüssel", ticketField: "Ticketfeld", addField: "Feld hinzufügen",
    placeholderDomain: "Domain der Platzhalter-E-Mail",
    placeholderHint: "Wird für die E-Mail des Anfragenden verwendet, wenn der Besucher keine angegeben hat.",
    extraTags: "Zusätzliche Tags", extraTagsHint: "Durch Kommas oder Leerzeichen getrennt.",
    summaryPublic: "Die Zusammenfassung des Bots als ersten öffentlichen Kommentar des Tickets verwenden",
    priorityHeading: "Priorität je Regel", priorityDefault: "Standard", priorityLow: "Niedrig",
    priorityNormal: "Normal", priorityHigh: "Hoch", priorityUrgent: "Dringend",
    saveMapping: "Zuordnung speichern",
    messagesHeading: "Übergabenachrichten",
    messagesHint: "Was der Besucher liest, wenn ein Ticket erstellt wurde; {ticket_id} wird durch die Ticketnummer ersetzt. Eine leere Nachricht verwendet den grau angezeigten Text von Handoff.",
    messageFor: "Nachricht ({locale})", newLocale: "Neuer Sprachcode", addLocale: "Hinzufügen",
    callbackHeading: "Callback", callbackUrl: "Callback-URL",
    callbackHint: "Antworten der Agenten und Statusänderungen werden hierhin gesendet (HTTPS). Leer lassen für keine.",
    secretSet: "Ein Geheimnis ist gesetzt.", secretNotSet: "Noch kein Geheimnis gesetzt.", rotateSecret: "Neues Geheimnis erzeugen",
    secretLabel: "Callback-Geheimnis", secretNote: "Wird nur einmal angezeigt; jetzt sicher ablegen.", copy: "Kopieren", copied: "Kopiert.",
    saveMessages: "Nachrichten speichern",
    saving: "Wird gespeichert…", saved: "Gespeichert", stale: "Anderswo geändert — neu laden", reload: "Neu laden",
    invalid: "Einige Felder müssen korrigiert werden.",
    auditHeading: "Prüfprotokoll", colTime: "Zeit", colAction: "Aktion", colOutcome: "Ergebnis",
    colActor: "Auslöser", colDetail: "Details", more: "Mehr laden", auditEmpty: "Noch keine Einträge.",
    escalationsHeading: "Unfertige Eskalationen", colConversation: "Gespräch", colAge: "Alter",
    colState: "Status", colRule: "Regel", colAttempts: "Versuche", colError: "Letzter Fehler",
    escalationsEmpty: "Keine unfertigen Eskalationen.", statePending: "Ausstehend", stateFailed: "Fehlgeschlagen",
    refresh: "Aktualisieren",
    manualHeading: "Von Hand eskalieren", manualConversation: "Gesprächs-ID",
    manualSubject: "Betreff (optional)", manualSubmit: "Eskalieren",
    conversationRequired: "Geben Sie eine Gesprächs-ID ein.",
    ticketCreated: "Ticket #{id} wurde erstellt.", ticketExisting: "Bereits in Ticket #{id}.",
    pending: "Ausstehend: Handoff schließt es in Kürze ab.", notEscalated: "Nicht eskaliert: {reason}",
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Sprache", signIn: "Anmelden",
    signInIntro: "Melden Sie sich an, um die Zendesk-Verbindung dieses Bots zu verwalten.", signingIn: "Anmeldung läuft…",
    sessionExpired: "Sitzung abgelaufen — bitte erneut anmelden", signInFailed: "Anmeldung fehlgeschlagen: {reason}",
    stateMismatch: "die Antwort gehört nicht zu dieser Anmeldung; versuchen Sie es erneut",
    notConfigured: "Die Anmeldung ist für diese Konsole nicht eingerichtet (ConsoleIssuer und ConsoleClientId).",
    noBotConsole: "Kein Bot gewählt: Öffnen Sie die Konsole mit ?bot=ihre-bot-id.",
    doneConnected: "Zendesk ist verbunden.", doneError: "Zendesk wurde nicht verbunden.",
    doneReason: "Grund: {reason}", doneUnknown: "Auf diese Seite leitet Zendesk nach dem Verbinden zurück.",
    doneClose: "Sie können dieses Fenster schließen.",
  };

  STRINGS.pt = {
    cardTitle: "Transferência para o Zendesk", loading: "Carregando…", retry: "Tentar novamente", working: "Processando…",
    networkError: "Não foi possível contactar o Handoff. Verifique sua conexão e tente novamente.",
    unauthorized: "Sua sessão expirou ou o token não é válido.",
    forbidden: "Você não tem permissão para fazer isso.",
    errorStatus: "A solicitação falhou (HTTP {status}).",
    noBot: "Nenhum bot foi escolhido (falta o atributo bot-id).",
    tabConnection: "Conexão", tabDiagnostics: "Diagnóstico", tabRules: "Regras de escalonamento",
    tabMapping: "Mapeamento de campos", tabMessages: "Mensagens e callback", tabActivity: "Atividade",
    stateConnected: "Conectado", stateDisconnected: "Não conectado", stateReconnect: "É preciso reconectar",
    subdomain: "Subdomínio", mode: "Modo", modeOauth: "OAuth", modeClientCredentials: "Credenciais de cliente",
    modeApiToken: "Token de API", user: "Usuário conectado", scopes: "Escopos",
    accessExpires: "O token de acesso expira", refreshExpires: "O token de renovação expira",
    lastRefresh: "Última renovação", warnings: "Avisos",
    reconnectExplain: "O Zendesk não aceita mais esta conexão; reconecte.", reconnect: "Reconectar",
    oauthHeading: "Conectar com o Zendesk (OAuth)", connectSubdomain: "Subdomínio do Zendesk",
    subdomainHint: "Por exemplo acme, de acme.zendesk.com.", connectOauth: "Conectar com o Zendesk",
    subdomainRequired: "Informe seu subdomínio do Zendesk.",
    oauthWaiting: "Conclua na janela do Zendesk…",
    popupBlocked: "Não foi possível abrir a janela do Zendesk. Continue aqui:",
    openZendesk: "Abrir o Zendesk para autorizar",
    oauthFailed: "O Zendesk não foi conectado: {reason}", oauthDone: "O Zendesk está conectado.",
    apiTokenHeading: "Token de API legado",
    legacyNote: "O Zendesk desativa os tokens de API legados em {date}; prefira OAuth.",
    apiTokenEmail: "E-mail do agente", apiToken: "Token de API", apiTokenSubmit: "Conectar com token de API",
    disconnect: "Desconectar", disconnectTitle: "Desconectar o Zendesk?",
    disconnectText: "O Handoff esquece as credenciais e o segredo do callback; os tickets continuam no Zendesk.",
    disconnectConfirm: "Desconectar", cancel: "Cancelar", disconnected: "O Zendesk está desconectado.",
    diagIntro: "Verifica a conexão, o webhook e as configurações junto ao Zendesk.",
    runDiagnostics: "Executar diagnóstico", statusPass: "Aprovado", statusWarn: "Aviso", statusFail: "Falha",
    overall: "Resultado geral", fix: "Correção:", diagNone: "Nenhuma verificação foi retornada.",
    rulesLegend: "Transferir para uma pessoa quando",
    ruleExplicit: "Pedido explícito", ruleExplicitHint: "O visitante pede para falar com uma pessoa.",
    ruleLowConfidence: "Confiança baixa", ruleLowConfidenceHint: "O bot está menos seguro da resposta do que o limite.",
    ruleLowRating: "Avaliação baixa", ruleLowRatingHint: "O visitante avalia uma resposta no limite ou abaixo, ou dá um polegar para baixo.",
    ruleAction: "Ação", ruleActionHint: "O bot executa uma das ações listadas abaixo.",
    ruleManual: "Manual", ruleManualHint: "Alguém escala manualmente, por este console ou pela API.",
    threshold: "Limite de confiança (0–1)", atOrBelow: "Avaliação igual ou inferior a", scale: "Escala de avaliação (máximo)",
    thumbsDown: "Um polegar para baixo escala", actions: "Ações (um nome por linha)",
    extraPhrases: "Frases extras", extraPhrasesHint: "Frases que contam como pedir uma pessoa, agrupadas por idioma.",
    exclusions: "Exclusões", exclusionsHint: "Frases que nunca devem escalar, como o nome de um produto.",
    langCode: "Código do idioma", phrases: "Frases (uma por linha)", addLanguage: "Adicionar um idioma", remove: "Remover",
    tryHeading: "Testar uma mensagem", tryMessage: "Mensagem do visitante", trySubmit: "Testar",
    tryHint: "Usa as regras como estão neste formulário, salvas ou não.",
    wouldEscalate: "Seria escalado", wouldNot: "Não seria escalado", heard: "Detectado: {text}",
    saveRules: "Salvar regras",
    fieldsNotConnected: "Conecte o Zendesk para escolher campos.",
    fieldConversationUrl: "Campo do link da conversa", fieldRating: "Campo da avaliação", noneOption: "— nenhum —",
    unknownField: "Campo desconhecido #{id}", fieldById: "Campo #{id}", inactive: "(inativo)",
    metadataFields: "Campos de metadados", metadataHint: "Uma chave de metadados da conversa e o campo do ticket que ela preenche.",
    metadataKey: "Chave de metadados", ticketField: "Campo do ticket", addField: "Adicionar um campo",
    placeholderDomain: "Domínio do e-mail provisório",
    placeholderHint: "Usado no e-mail do solicitante quando o visitante não informou nenhum.",
    extraTags: "Tags extras", extraTagsHint: "Separadas por vírgulas ou espaços.",
    summaryPublic: "Usar o resumo do bot como primeiro comentário público do ticket",
    priorityHeading: "Prioridade por regra", priorityDefault: "Padrão", priorityLow: "Baixa",
    priorityNormal: "Normal", priorityHigh: "Alta", priorityUrgent: "Urgente",
    saveMapping: "Salvar mapeamento",
    messagesHeading: "Mensagens de transferência",
    messagesHint: "O que o visitante lê quando um ticket é criado; {ticket_id} é substituído pelo número do ticket. Uma mensagem vazia usa o texto do próprio Handoff, mostrado em cinza.",
    messageFor: "Mensagem ({locale})", newLocale: "Novo código de idioma", addLocale: "Adicionar",
    callbackHeading: "Callback", callbackUrl: "URL de callback",
    callbackHint: "Respostas dos agentes e mudanças de status são enviadas para cá (HTTPS). Deixe vazio para nenhum.",
    secretSet: "Há um segredo definido.", secretNotSet: "Ainda não há segredo.", rotateSecret: "Gerar um novo segredo",
    secretLabel: "Segredo do callback", secretNote: "Mostrado uma única vez; guarde-o agora.", copy: "Copiar", copied: "Copiado.",
    saveMessages: "Salvar mensagens",
    saving: "Salvando…", saved: "Salvo", stale: "Alterado em outro lugar — recarregue", reload: "Recarregar",
    invalid: "Alguns campos precisam de atenção.",
    auditHeading: "Trilha de auditoria", colTime: "Hora", colAction: "Ação", colOutcome: "Resultado",
    colActor: "Autor", colDetail: "Detalhes", more: "Carregar mais", auditEmpty: "Ainda não há registros.",
    escalationsHeading: "Escalonamentos não concluídos", colConversation: "Conversa", colAge: "Idade",
    colState: "Estado", colRule: "Regra", colAttempts: "Tentativas", colError: "Último erro",
    escalationsEmpty: "Nenhum escalonamento não concluído.", statePending: "Pendente", stateFailed: "Falhou",
    refresh: "Atualizar",
    manualHeading: "Escalar manualmente", manualConversation: "Id da conversa",
    manualSubject: "Assunto (opcional)", manualSubmit: "Escalar",
    conversationRequired: "Informe um id de conversa.",
    ticketCreated: "O ticket #{id} foi criado.", ticketExisting: "Já está no ticket #{id}.",
    pending: "Pendente: o Handoff vai concluir em breve.", notEscalated: "Não escalado: {reason}",
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Idioma", signIn: "Entrar",
    signInIntro: "Entre para gerenciar a conexão deste bot com o Zendesk.", signingIn: "Entrando…",
    sessionExpired: "Sessão expirada — entre novamente", signInFailed: "Falha ao entrar: {reason}",
    stateMismatch: "a resposta não pertence a este acesso; tente novamente",
    notConfigured: "O acesso não está configurado neste console (ConsoleIssuer e ConsoleClientId).",
    noBotConsole: "Nenhum bot foi escolhido: abra o console com ?bot=id-do-seu-bot.",
    doneConnected: "O Zendesk está conectado.", doneError: "O Zendesk não foi conectado.",
    doneReason: "Motivo: {reason}", doneUnknown: "O Zendesk envia você para esta página depois de conectar.",
    doneClose: "Você pode fechar esta janela.",
  };

  STRINGS.it = {
    cardTitle: "Passaggio a Zendesk", loading: "Caricamento…", retry: "Riprova", working: "In corso…",
    networkError: "Impossibile raggiungere Handoff. Controlla la connessione e riprova.",
    unauthorized: "La sessione è scaduta o il token non è valido.",
    forbidden: "Non hai il permesso di farlo.",
    errorStatus: "La richiesta non è riuscita (HTTP {status}).",
    noBot: "Nessun bot scelto (manca l'attributo bot-id).",
    tabConnection: "Connessione", tabDiagnostics: "Diagnostica", tabRules: "Regole di escalation",
    tabMapping: "Mappatura dei campi", tabMessages: "Messaggi e callback", tabActivity: "Attività",
    stateConnected: "Connesso", stateDisconnected: "Non connesso", stateReconnect: "Riconnessione necessaria",
    subdomain: "Sottodominio", mode: "Modalità", modeOauth: "OAuth", modeClientCredentials: "Credenziali client",
    modeApiToken: "Token API", user: "Utente connesso", scopes: "Ambiti",
    accessExpires: "Il token di accesso scade", refreshExpires: "Il token di rinnovo scade",
    lastRefresh: "Ultimo rinnovo", warnings: "Avvisi",
    reconnectExplain: "Zendesk non accetta più questa connessione; riconnetti.", reconnect: "Riconnetti",
    oauthHeading: "Connetti con Zendesk (OAuth)", connectSubdomain: "Sottodominio Zendesk",
    subdomainHint: "Per esempio acme, da acme.zendesk.com.", connectOauth: "Connetti con Zendesk",
    subdomainRequired: "Inserisci il tuo sottodominio Zendesk.",
    oauthWaiting: "Completa nella finestra di Zendesk…",
    popupBlocked: "Non è stato possibile aprire la finestra di Zendesk. Continua qui:",
    openZendesk: "Apri Zendesk per autorizzare",
    oauthFailed: "Zendesk non è stato connesso: {reason}", oauthDone: "Zendesk è connesso.",
    apiTokenHeading: "Token API legacy",
    legacyNote: "Zendesk disattiva i token API legacy il {date}; preferisci OAuth.",
    apiTokenEmail: "E-mail dell'agente", apiToken: "Token API", apiTokenSubmit: "Connetti con token API",
    disconnect: "Disconnetti", disconnectTitle: "Disconnettere Zendesk?",
    disconnectText: "Handoff dimentica le credenziali e il segreto del callback; i ticket restano in Zendesk.",
    disconnectConfirm: "Disconnetti", cancel: "Annulla", disconnected: "Zendesk è disconnesso.",
    diagIntro: "Verifica la connessione, il webhook e le impostazioni con Zendesk.",
    runDiagnostics: "Esegui la diagnostica", statusPass: "Superato", statusWarn: "Avviso", statusFail: "Non superato",
    overall: "Esito complessivo", fix: "Soluzione:", diagNone: "Nessun controllo è stato restituito.",
    rulesLegend: "Passa a una persona quando",
    ruleExplicit: "Richiesta esplicita", ruleExplicitHint: "Il visitatore chiede di parlare con una persona.",
    ruleLowConfidence: "Fiducia bassa", ruleLowConfidenceHint: "Il bot è meno sicuro della risposta rispetto alla soglia.",
    ruleLowRating: "Valutazione bassa", ruleLowRatingHint: "Il visitatore valuta una risposta al limite o sotto, oppure mette un pollice in giù.",
    ruleAction: "Azione", ruleActionHint: "Il bot esegue una delle azioni elencate sotto.",
    ruleManual: "Manuale", ruleManualHint: "Qualcuno esegue l'escalation a mano, da questa console o dall'API.",
    threshold: "Soglia di fiducia (0–1)", atOrBelow: "Valutazione pari o inferiore a", scale: "Scala di valutazione (massimo)",
    thumbsDown: "Un pollice in giù attiva l'escalation", actions: "Azioni (un nome per riga)",
    extraPhrases: "Frasi aggiuntive", extraPhrasesHint: "Frasi che valgono come richiesta di una persona, raggruppate per lingua.",
    exclusions: "Esclusioni", exclusionsHint: "Frasi che non devono mai attivare l'escalation, come il nome di un prodotto.",
    langCode: "Codice lingua", phrases: "Frasi (una per riga)", addLanguage: "Aggiungi una lingua", remove: "Rimuovi",
    tryHeading: "Prova un messaggio", tryMessage: "Messaggio del visitatore", trySubmit: "Prova",
    tryHint: "Usa le regole come sono in questo modulo, salvate o no.",
    wouldEscalate: "Attiverebbe l'escalation", wouldNot: "Non attiverebbe l'escalation", heard: "Riconosciuto: {text}",
    saveRules: "Salva le regole",
    fieldsNotConnected: "Connetti Zendesk per scegliere i campi.",
    fieldConversationUrl: "Campo del link alla conversazione", fieldRating: "Campo della valutazione", noneOption: "— nessuno —",
    unknownField: "Campo sconosciuto #{id}", fieldById: "Campo #{id}", inactive: "(inattivo)",
    metadataFields: "Campi dei metadati", metadataHint: "Una chiave dei metadati della conversazione e il campo del ticket che compila.",
    metadataKey: "Chiave dei metadati", ticketField: "Campo del ticket", addField: "Aggiungi un campo",
    placeholderDomain: "Dominio dell'e-mail segnaposto",
    placeholderHint: "Usato per l'e-mail del richiedente quando il visitatore non ne ha fornita una.",
    extraTags: "Tag aggiuntivi", extraTagsHint: "Separati da virgole o spazi.",
    summaryPublic: "Usa il riepilogo del bot come primo commento pubblico del ticket",
    priorityHeading: "Priorità per regola", priorityDefault: "Predefinita", priorityLow: "Bassa",
    priorityNormal: "Normale", priorityHigh: "Alta", priorityUrgent: "Urgente",
    saveMapping: "Salva la mappatura",
    messagesHeading: "Messaggi di passaggio",
    messagesHint: "Ciò che legge il visitatore quando viene creato un ticket; {ticket_id} è sostituito dal numero del ticket. Un messaggio vuoto usa il testo di Handoff, mostrato in grigio.",
    messageFor: "Messaggio ({locale})", newLocale: "Nuovo codice lingua", addLocale: "Aggiungi",
    callbackHeading: "Callback", callbackUrl: "URL di callback",
    callbackHint: "Le risposte degli agenti e i cambi di stato vengono inviati qui (HTTPS). Lascia vuoto per nessuno.",
    secretSet: "È impostato un segreto.", secretNotSet: "Nessun segreto impostato.", rotateSecret: "Genera un nuovo segreto",
    secretLabel: "Segreto del callback", secretNote: "Mostrato una sola volta; conservalo ora.", copy: "Copia", copied: "Copiato.",
    saveMessages: "Salva i messaggi",
    saving: "Salvataggio…", saved: "Salvato", stale: "Modificato altrove — ricarica", reload: "Ricarica",
    invalid: "Alcuni campi richiedono attenzione.",
    auditHeading: "Registro di audit", colTime: "Ora", colAction: "Azione", colOutcome: "Esito",
    colActor: "Autore", colDetail: "Dettagli", more: "Carica altro", auditEmpty: "Ancora nessuna voce.",
    escalationsHeading: "Escalation non completate", colConversation: "Conversazione", colAge: "Età",
    colState: "Stato", colRule: "Regola", colAttempts: "Tentativi", colError: "Ultimo errore",
    escalationsEmpty: "Nessuna escalation non completata.", statePending: "In attesa", stateFailed: "Non riuscita",
    refresh: "Aggiorna",
    manualHeading: "Escalation manuale", manualConversation: "Id della conversazione",
    manualSubject: "Oggetto (facoltativo)", manualSubmit: "Avvia escalation",
    conversationRequired: "Inserisci un id di conversazione.",
    ticketCreated: "Il ticket #{id} è stato creato.", ticketExisting: "Già nel ticket #{id}.",
    pending: "In attesa: Handoff la completerà a breve.", notEscalated: "Nessuna escalation: {reason}",
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Lingua", signIn: "Accedi",
    signInIntro: "Accedi per gestire la connessione a Zendesk di questo bot.", signingIn: "Accesso in corso…",
    sessionExpired: "Sessione scaduta — accedi di nuovo", signInFailed: "Accesso non riuscito: {reason}",
    stateMismatch: "la risposta non appartiene a questo accesso; riprova",
    notConfigured: "L'accesso non è configurato per questa console (ConsoleIssuer e ConsoleClientId).",
    noBotConsole: "Nessun bot scelto: apri la console con ?bot=id-del-tuo-bot.",
    doneConnected: "Zendesk è connesso.", doneError: "Zendesk non è stato connesso.",
    doneReason: "Motivo: {reason}", doneUnknown: "Zendesk ti riporta a questa pagina dopo la connessione.",
    doneClose: "Puoi chiudere questa finestra.",
  };

  STRINGS.nl = {
    cardTitle: "Overdracht naar Zendesk", loading: "Laden…", retry: "Opnieuw proberen", working: "Bezig…",
    networkError: "Handoff is niet bereikbaar. Controleer uw verbinding en probeer het opnieuw.",
    unauthorized: "Uw sessie is verlopen of het token is niet geldig.",
    forbidden: "U mag dit niet doen.",
    errorStatus: "Het verzoek is mislukt (HTTP {status}).",
    noBot: "Er is geen bot gekozen (het attribuut bot-id ontbreekt).",
    tabConnection: "Verbinding", tabDiagnostics: "Diagnose", tabRules: "Escalatieregels",
    tabMapping: "Veldkoppeling", tabMessages: "Berichten & callback", tabActivity: "Activiteit",
    stateConnected: "Verbonden", stateDisconnected: "Niet verbonden", stateReconnect: "Opnieuw verbinden nodig",
    subdomain: "Subdomein", mode: "Modus", modeOauth: "OAuth", modeClientCredentials: "Clientgegevens",
    modeApiToken: "API-token", user: "Verbonden gebruiker", scopes: "Rechten",
    accessExpires: "Toegangstoken verloopt", refreshExpires: "Vernieuwingstoken verloopt",
    lastRefresh: "Laatst vernieuwd", warnings: "Waarschuwingen",
    reconnectExplain: "Zendesk accepteert deze verbinding niet meer; verbind opnieuw.", reconnect: "Opnieuw verbinden",
    oauthHeading: "Verbinden met Zendesk (OAuth)", connectSubdomain: "Zendesk-subdomein",
    subdomainHint: "Bijvoorbeeld acme, van acme.zendesk.com.", connectOauth: "Verbinden met Zendesk",
    subdomainRequired: "Vul uw Zendesk-subdomein in.",
    oauthWaiting: "Rond het af in het Zendesk-venster…",
    popupBlocked: "Het Zendesk-venster kon niet openen. Ga hier verder:",
    openZendesk: "Zendesk openen om toe te staan",
    oauthFailed: "Zendesk is niet verbonden: {reason}", oauthDone: "Zendesk is verbonden.",
    apiTokenHeading: "Oud API-token",
    legacyNote: "Zendesk schakelt oude API-tokens uit op {date}; kies liever OAuth.",
    apiTokenEmail: "E-mailadres van de agent", apiToken: "API-token", apiTokenSubmit: "Verbinden met API-token",
    disconnect: "Verbreken", disconnectTitle: "Zendesk ontkoppelen?",
    disconnectText: "Handoff vergeet de inloggegevens en het callbackgeheim; tickets blijven in Zendesk.",
    disconnectConfirm: "Verbreken", cancel: "Annuleren", disconnected: "Zendesk is ontkoppeld.",
    diagIntro: "Controleert de verbinding, de webhook en de instellingen bij Zendesk.",
    runDiagnostics: "Diagnose uitvoeren", statusPass: "Geslaagd", statusWarn: "Waarschuwing", statusFail: "Mislukt",
    overall: "Totaal", fix: "Oplossing:", diagNone: "Er kwamen geen controles terug.",
    rulesLegend: "Overdragen aan een mens wanneer",
    ruleExplicit: "Uitdrukkelijk verzoek", ruleExplicitHint: "De bezoeker vraagt om een mens.",
    ruleLowConfidence: "Lage zekerheid", ruleLowConfidenceHint: "De bot is minder zeker van zijn antwoord dan de drempel.",
    ruleLowRating: "Lage beoordeling", ruleLowRatingHint: "De bezoeker beoordeelt een antwoord op of onder de grens, of geeft een duim omlaag.",
    ruleAction: "Actie", ruleActionHint: "De bot voert een van de hieronder genoemde acties uit.",
    ruleManual: "Handmatig", ruleManualHint: "Iemand escaleert met de hand, vanuit deze console of de API.",
    threshold: "Zekerheidsdrempel (0–1)", atOrBelow: "Beoordeling op of onder", scale: "Beoordelingsschaal (hoogste)",
    thumbsDown: "Een duim omlaag escaleert", actions: "Acties (één naam per regel)",
    extraPhrases: "Extra zinnen", extraPhrasesHint: "Zinnen die gelden als vragen om een mens, per taal gegroepeerd.",
    exclusions: "Uitzonderingen", exclusionsHint: "Zinnen die nooit mogen escaleren, zoals een productnaam.",
    langCode: "Taalcode", phrases: "Zinnen (één per regel)", addLanguage: "Taal toevoegen", remove: "Verwijderen",
    tryHeading: "Een bericht uitproberen", tryMessage: "Bericht van de bezoeker", trySubmit: "Uitproberen",
    tryHint: "Gebruikt de regels zoals ze in dit formulier staan, opgeslagen of niet.",
    wouldEscalate: "Zou escaleren", wouldNot: "Zou niet escaleren", heard: "Herkend: {text}",
    saveRules: "Regels opslaan",
    fieldsNotConnected: "Verbind Zendesk om velden te kiezen.",
    fieldConversationUrl: "Veld voor de gesprekslink", fieldRating: "Veld voor de beoordeling", noneOption: "— geen —",
    unknownField: "Onbekend veld #{id}", fieldById: "Veld #{id}", inactive: "(inactief)",
    metadataFields: "Metadatavelden", metadataHint: "Een metadatasleutel van het gesprek en het ticketveld dat hij vult.",
    metadataKey: "Metadatasleutel", ticketField: "Ticketveld", addField: "Veld toevoegen",
    placeholderDomain: "Domein van het tijdelijke e-mailadres",
    placeholderHint: "Gebruikt voor het e-mailadres van de aanvrager als de bezoeker er geen gaf.",
    extraTags: "Extra tags", extraTagsHint: "Gescheiden door komma's of spaties.",
    summaryPublic: "De samenvatting van de bot als eerste openbare opmerking van het ticket gebruiken",
    priorityHeading: "Prioriteit per regel", priorityDefault: "Standaard", priorityLow: "Laag",
    priorityNormal: "Normaal", priorityHigh: "Hoog", priorityUrgent: "Dringend",
    saveMapping: "Koppeling opslaan",
    messagesHeading: "Overdrachtsberichten",
    messagesHint: "Wat de bezoeker leest als er een ticket is gemaakt; {ticket_id} wordt vervangen door het ticketnummer. Een leeg bericht gebruikt de eigen tekst van Handoff, in grijs getoond.",
    messageFor: "Bericht ({locale})", newLocale: "Nieuwe taalcode", addLocale: "Toevoegen",
    callbackHeading: "Callback", callbackUrl: "Callback-URL",
    callbackHint: "Antwoorden van agenten en statuswijzigingen worden hierheen gestuurd (HTTPS). Leeg laten voor geen.",
    secretSet: "Er is een geheim ingesteld.", secretNotSet: "Er is nog geen geheim.", rotateSecret: "Nieuw geheim maken",
    secretLabel: "Callbackgeheim", secretNote: "Eén keer getoond; bewaar het nu.", copy: "Kopiëren", copied: "Gekopieerd.",
    saveMessages: "Berichten opslaan",
    saving: "Opslaan…", saved: "Opgeslagen", stale: "Elders gewijzigd — opnieuw laden", reload: "Opnieuw laden",
    invalid: "Sommige velden hebben aandacht nodig.",
    auditHeading: "Auditlogboek", colTime: "Tijd", colAction: "Actie", colOutcome: "Resultaat",
    colActor: "Door", colDetail: "Details", more: "Meer laden", auditEmpty: "Nog geen items.",
    escalationsHeading: "Onafgemaakte escalaties", colConversation: "Gesprek", colAge: "Leeftijd",
    colState: "Status", colRule: "Regel", colAttempts: "Pogingen", colError: "Laatste fout",
    escalationsEmpty: "Geen onafgemaakte escalaties.", statePending: "In behandeling", stateFailed: "Mislukt",
    refresh: "Vernieuwen",
    manualHeading: "Met de hand escaleren", manualConversation: "Gesprek-id",
    manualSubject: "Onderwerp (optioneel)", manualSubmit: "Escaleren",
    conversationRequired: "Vul een gesprek-id in.",
    ticketCreated: "Ticket #{id} is gemaakt.", ticketExisting: "Staat al in ticket #{id}.",
    pending: "In behandeling: Handoff rondt het binnenkort af.", notEscalated: "Niet geëscaleerd: {reason}",
    consoleTitle: "Handoff — Zendesk", bot: "Bot", language: "Taal", signIn: "Inloggen",
    signInIntro: "Log in om de Zendesk-verbinding van deze bot te beheren.", signingIn: "Inloggen…",
    sessionExpired: "Sessie verlopen — log opnieuw in", signInFailed: "Inloggen mislukt: {reason}",
    stateMismatch: "het antwoord hoort niet bij deze aanmelding; probeer het opnieuw",
    notConfigured: "Inloggen is niet ingesteld voor deze console (ConsoleIssuer en ConsoleClientId).",
    noBotConsole: "Er is geen bot gekozen: open de console met ?bot=uw-bot-id.",
    doneConnected: "Zendesk is verbonden.", doneError: "Zendesk is niet verbonden.",
    doneReason: "Reden: {reason}", doneUnknown: "Zendesk stuurt u na het verbinden terug naar deze pagina.",
    doneClose: "U kunt dit venster sluiten.",
  };

  // ---------------------------------------------------------------------------------------------
  // Helpers: language, text, DOM building, dates, tokens.
  // ---------------------------------------------------------------------------------------------
  const LANGS = ["en", "es", "fr", "de", "pt", "it", "nl"];
  const LANG_NAMES = {
    en: "English", es: "Español", fr: "Français", de: "Deutsch", pt: "Português", it: "Italiano", nl: "Nederlands",
  };
  const RULES = ["explicit_request", "low_confidence", "low_rating", "action", "manual"];
  const RULE_LABELS = {
    explicit_request: ["ruleExplicit", "ruleExplicitHint"], low_confidence: ["ruleLowConfidence", "ruleLowConfidenceHint"],
    low_rating: ["ruleLowRating", "ruleLowRatingHint"], action: ["ruleAction", "ruleActionHint"],
    manual: ["ruleManual", "ruleManualHint"],
  };
  const PRIORITIES = ["low", "normal", "high", "urgent"];
  const OAUTH_MESSAGE = "handoff:zendesk-oauth";

  /** The UI language: the attribute when supported, else the browser's, else English. */
  function pickLang(attr) {
    const wanted = [attr, ...(navigator.languages || []), navigator.language];
    for (const code of wanted) {
      const base = String(code || "").toLowerCase().split(/[-_]/)[0];
      if (LANGS.includes(base)) return base;
    }
    return "en";
  }

  /** A translated text; `{name}` placeholders are filled from vars. */
  function translate(lang, key, vars) {
    const table = STRINGS[lang] || STRINGS.en;
    const text = key in table ? table[key] : (STRINGS.en[key] ?? key);
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }

  /**
   * createElement with attributes and children. attrs: "text" → textContent; "on<event>" →
   * listener; ".prop" → property; true → empty attribute; false/null/undefined → left out.
   */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "text") el.textContent = String(value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key.startsWith(".")) el[key.slice(1)] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function clear(el) {
    while (el && el.firstChild) el.firstChild.remove();
    return el;
  }

  function parseDate(iso) {
    if (!iso) return null;
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  /** A <time> with the date and time in the UI language (the value as given when unreadable). */
  function timeEl(lang, iso, options) {
    const date = parseDate(iso);
    if (!date) return h("span", { text: iso ? String(iso) : "—" });
    const format = new Intl.DateTimeFormat(lang, options || { dateStyle: "medium", timeStyle: "short" });
    return h("time", { datetime: date.toISOString(), title: date.toISOString(), text: format.format(date) });
  }

  /** "3 min ago" in the UI language, as a <time>. */
  function ageEl(lang, iso, now) {
    const date = parseDate(iso);
    if (!date) return h("span", { text: "—" });
    const seconds = Math.round((date.getTime() - (now || Date.now())) / 1000);
    const abs = Math.abs(seconds);
    const [value, unit] = abs < 60 ? [seconds, "second"] : abs < 3600 ? [Math.round(seconds / 60), "minute"]
      : abs < 86400 ? [Math.round(seconds / 3600), "hour"] : [Math.round(seconds / 86400), "day"];
    const text = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" }).format(value, unit);
    return h("time", { datetime: date.toISOString(), title: date.toISOString(), text });
  }

  /** The payload of a JWT, for display only (never trusted for anything else). */
  function decodeJwt(token) {
    try {
      const part = String(token).split(".")[1];
      const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (_) {
      return null;
    }
  }

  function base64url(bytes) {
    let text = "";
    for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(size) {
    return base64url(crypto.getRandomValues(new Uint8Array(size)));
  }

  function lines(text) {
    return String(text || "").split("\n").map((line) => line.trim()).filter(Boolean);
  }

  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  function isHttpsUrl(text) {
    try {
      const url = new URL(text);
      return url.protocol === "https:" || (url.protocol === "http:" && /^(localhost|127\.0\.0\.1|\[::1\])$/.test(url.hostname));
    } catch (_) {
      return false;
    }
  }

  function emit(el, name, detail) {
    el.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, detail: detail || {} }));
  }

  /** Does the field path `path` fall under `prefix` (equal, or continued by `.` or `[`)? */
  function pathUnder(path, prefix) {
    if (!prefix || !path.startsWith(prefix)) return false;
    const next = path.charAt(prefix.length);
    return next === "" || next === "." || next === "[";
  }

  // ---------------------------------------------------------------------------------------------
  // The API: one helper for auth, JSON and problems.
  // ---------------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, problem, network) {
      super(problem && problem.title ? problem.title : network ? "network error" : `HTTP ${status}`);
      this.status = status;
      this.problem = problem || null;
      this.network = Boolean(network);
    }
  }

  /**
   * Calls `${base}/v1${path}` with the bearer token; answers {status, body, etag}. Throws an
   * ApiError for a network failure (network = true) or any status outside 2xx (with the problem).
   */
  async function api(base, tokenSource, method, path, options) {
    const opts = options || {};
    let token;
    try {
      token = await tokenSource();
    } catch (_) {
      token = null;
    }
    if (!token) throw new ApiError(401, null, false);
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, opts.headers || {});
    let response;
    try {
      response = await fetch(`${base}/v1${path}`, {
        method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        credentials: "omit", cache: "no-store", mode: "cors", referrerPolicy: "no-referrer",
      });
    } catch (_) {
      throw new ApiError(0, null, true);
    }
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (/json/i.test(type)) {
      try {
        body = await response.json();
      } catch (_) {
        body = null;
      }
    }
    if (!response.ok) {
      const problem = body && typeof body === "object" && typeof body.title === "string" ? body : null;
      throw new ApiError(response.status, problem, false);
    }
    return { status: response.status, body, etag: response.headers.get("etag") };
  }

  // ---------------------------------------------------------------------------------------------
  // Styles (inside each shadow root). Colours are custom properties; both palettes keep text at
  // 4.5:1 or more against their backgrounds.
  // ---------------------------------------------------------------------------------------------
  const LIGHT = `
    --hz-bg: #ffffff; --hz-surface: #f4f6f8; --hz-text: #1a1d21; --hz-muted: #4a5360;
    --hz-border: #8a94a0; --hz-accent: #0b5cad; --hz-on-accent: #ffffff; --hz-focus: #0b5cad;
    --hz-pass: #1b6e3a; --hz-warn: #8a5a00; --hz-fail: #b3261e; --hz-danger: #b3261e;`;
  const DARK = `
    --hz-bg: #16191d; --hz-surface: #20252b; --hz-text: #e8eaed; --hz-muted: #b4bcc6;
    --hz-border: #7d8793; --hz-accent: #8cb8ff; --hz-on-accent: #0b1a2e; --hz-focus: #8cb8ff;
    --hz-pass: #7dd89a; --hz-warn: #f0c060; --hz-fail: #ff9a8f; --hz-danger: #ff9a8f;`;

  const BASE_CSS = `
    :host { ${LIGHT} display: block; color: var(--hz-text); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color-scheme: light; }
    :host([theme=dark]) { ${DARK} color-scheme: dark; }
    @media (prefers-color-scheme: dark) { :host(:not([theme=light]):not([theme=dark])) { ${DARK} color-scheme: dark; } }
    :host([hidden]) { display: none; }
    * { box-sizing: border-box; }
    h1, h2, h3 { line-height: 1.25; margin: 0 0 .5rem; }
    h2 { font-size: 1.25rem; } h3 { font-size: 1.05rem; margin-top: 1.25rem; }
    p { margin: .25rem 0 .75rem; }
    a { color: var(--hz-accent); }
    .muted, .hint { color: var(--hz-muted); font-size: .9em; }
    button { font: inherit; cursor: pointer; border-radius: 6px; padding: .45rem .9rem; min-height: 2.5rem;
      border: 1px solid var(--hz-accent); background: var(--hz-accent); color: var(--hz-on-accent); }
    button.secondary { background: transparent; color: var(--hz-accent); }
    button.danger { background: transparent; color: var(--hz-danger); border-color: var(--hz-danger); }
    button[disabled] { opacity: .6; cursor: progress; }
    input, select, textarea { font: inherit; color: var(--hz-text); background: var(--hz-bg);
      border: 1px solid var(--hz-border); border-radius: 6px; padding: .4rem .55rem; max-width: 100%; }
    input[type=text], input[type=url], input[type=email], input[type=password], input:not([type]), select, textarea { width: 100%; }
    input[type=number] { width: 8rem; }
    input[type=checkbox] { width: 1.15rem; height: 1.15rem; accent-color: var(--hz-accent); margin: .2rem .5rem 0 0; flex: none; }
    textarea { min-height: 4.5rem; resize: vertical; }
    :focus-visible { outline: 3px solid var(--hz-focus); outline-offset: 2px; }
    [aria-invalid=true] { border-color: var(--hz-fail); border-width: 2px; }
    .field-error { color: var(--hz-fail); font-size: .9em; margin: .2rem 0 .5rem; }
    .field { margin: 0 0 .9rem; }
    .field > label { display: block; font-weight: 600; margin-bottom: .2rem; }
    .check { display: flex; align-items: flex-start; margin: .5rem 0; }
    .check label { font-weight: 600; }
    .row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; margin: .5rem 0; }
    .row > .grow { flex: 1 1 12rem; min-width: 0; }
    .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0 .5rem; }
    fieldset { border: 1px solid var(--hz-border); border-radius: 8px; margin: 0 0 1rem; padding: .5rem .9rem .75rem; min-width: 0; }
    legend { font-weight: 700; padding: 0 .3rem; }
    .status { margin: .5rem 0; min-height: 1.5rem; }
    .status:empty { display: none; }
    [data-kind=error], .error { color: var(--hz-fail); }
    [data-kind=stale] { color: var(--hz-warn); }
    [data-kind=saved] { color: var(--hz-pass); }
    .banner { border: 1px solid var(--hz-border); border-left-width: 4px; border-radius: 6px; padding: .6rem .8rem; margin: .5rem 0 1rem; background: var(--hz-surface); }
    .banner.error { border-left-color: var(--hz-fail); }
    .banner.warn { border-left-color: var(--hz-warn); }
    table { border-collapse: collapse; width: 100%; font-size: .92em; }
    th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid var(--hz-border); overflow-wrap: anywhere; }
    th { font-weight: 700; }
    .table-wrap { overflow-x: auto; }
    ul.kv { list-style: none; margin: 0; padding: 0; }
    code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; overflow-wrap: anywhere; }
    @media (max-width: 600px) {
      .row { flex-direction: column; align-items: stretch; }
      .row > .grow { flex: none; }
      button { width: 100%; }
      .tabs button { width: auto; }
    }`;

  const CARD_CSS = `
    .card { max-width: 960px; margin: 0 auto; background: var(--hz-bg); border: 1px solid var(--hz-border); border-radius: 12px; padding: 1rem 1.25rem; }
    .card > header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; justify-content: space-between; }
    .tabs { display: flex; flex-wrap: wrap; gap: .25rem; border-bottom: 1px solid var(--hz-border); margin: .5rem 0 1rem; }
    .tabs button { background: transparent; color: var(--hz-text); border: 0; border-bottom: 3px solid transparent; border-radius: 6px 6px 0 0; }
    .tabs button[aria-selected=true] { border-bottom-color: var(--hz-accent); color: var(--hz-accent); font-weight: 700; }
    dl.facts { display: grid; grid-template-columns: minmax(9rem, max-content) 1fr; gap: .3rem 1rem; margin: .5rem 0 1rem; }
    dl.facts dt { font-weight: 600; color: var(--hz-muted); }
    dl.facts dd { margin: 0; overflow-wrap: anywhere; }
    @media (max-width: 600px) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .4rem; } }
    .state { display: inline-flex; gap: .4rem; align-items: center; font-weight: 700; font-size: 1.1rem; }
    .state[data-state=connected] { color: var(--hz-pass); }
    .state[data-state=reconnect_required] { color: var(--hz-warn); }
    .state[data-state=disconnected] { color: var(--hz-muted); }
    .sections { display: grid; gap: 1rem; grid-template-columns: 1fr 1fr; }
    @media (max-width: 760px) { .sections { grid-template-columns: 1fr; } }
    .sections > section { border: 1px solid var(--hz-border); border-radius: 8px; padding: .75rem .9rem; min-width: 0; }
    .sections > section h3 { margin-top: 0; }
    ul.checks { list-style: none; padding: 0; margin: .5rem 0; }
    ul.checks li { border: 1px solid var(--hz-border); border-left-width: 4px; border-radius: 6px; padding: .5rem .75rem; margin: 0 0 .5rem; }
    ul.checks li[data-status=pass] { border-left-color: var(--hz-pass); }
    ul.checks li[data-status=warn] { border-left-color: var(--hz-warn); }
    ul.checks li[data-status=fail] { border-left-color: var(--hz-fail); }
    .badge { font-weight: 700; white-space: nowrap; }
    .badge[data-status=pass] { color: var(--hz-pass); } .badge[data-status=warn] { color: var(--hz-warn); } .badge[data-status=fail] { color: var(--hz-fail); }
    [data-fires=true] { color: var(--hz-warn); } [data-fires=false] { color: var(--hz-pass); }
    .rule { margin-bottom: .75rem; }
    .rule > :not(.check) { margin-left: 1.65rem; }
    .lang-row { border: 1px dashed var(--hz-border); border-radius: 6px; padding: .5rem; margin: .5rem 0; }
    dialog { color: var(--hz-text); background: var(--hz-bg); border: 1px solid var(--hz-border); border-radius: 10px; max-width: min(28rem, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, .45); }
    .secret { display: flex; gap: .5rem; flex-wrap: wrap; }
    .secret input { flex: 1 1 14rem; font-family: ui-monospace, monospace; }`;

  const CONSOLE_CSS = `
    :host { background: var(--hz-surface); min-height: 100vh; }
    .page { max-width: 1000px; margin: 0 auto; padding: 1rem; }
    .page > header { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; justify-content: space-between; margin-bottom: 1rem; }
    .page > header h1 { font-size: 1.4rem; margin: 0; }
    .page > header .meta { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
    .page > header select { width: auto; }
    .panel { max-width: 32rem; margin: 2rem auto; background: var(--hz-bg); border: 1px solid var(--hz-border); border-radius: 12px; padding: 1.25rem; }`;

  // ---------------------------------------------------------------------------------------------
  // <handoff-zendesk>: the card. Core: attributes, lifecycle, tabs, loading, statuses, field marks.
  // Each tab's code follows in its own section (Object.assign onto the prototype).
  // ---------------------------------------------------------------------------------------------
  const TABS = [
    ["connection", "tabConnection"], ["diagnostics", "tabDiagnostics"], ["rules", "tabRules"],
    ["mapping", "tabMapping"], ["messages", "tabMessages"], ["activity", "tabActivity"],
  ];
  const SETTINGS_TABS = ["rules", "mapping", "messages"];

  class HandoffZendesk extends HTMLElement {
    static get observedAttributes() {
      return ["api-base", "bot-id", "token", "lang", "theme", "oauth-return-url"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._getToken = null;
      this._scheduled = null;
      this.uid = 0;
      this.oauth = null;
      this.activeTab = "connection";
      this._onMessage = (event) => this.onOAuthMessage(event);
      this.resetState();
      // A getToken set before the element was defined is an own property: take it over.
      if (Object.prototype.hasOwnProperty.call(this, "getToken")) {
        const early = this.getToken;
        delete this.getToken;
        this.getToken = early;
      }
    }

    resetState() {
      this.stopOAuthWatch();
      this.connection = null;
      this.connectionError = null;
      this.settings = null;
      this.settingsError = null;
      this.etag = null;
      this.ticketFields = null;
      this.fieldsProblem = null;
      this.diagnostics = null;
      this.diagnosticsRan = false;
      this.audit = [];
      this.auditCursor = null;
      this.escalations = null;
      this.activityLoaded = false;
      this.secret = null;
    }

    /** An async function answering a fresh JWT; called before every request. */
    get getToken() {
      return this._getToken;
    }

    set getToken(fn) {
      this._getToken = typeof fn === "function" ? fn : null;
      if (this.isConnected) this.schedule("reload");
    }

    get uiLang() { return pickLang(this.getAttribute("lang")); }
    get apiBase() { return (this.getAttribute("api-base") || window.location.origin).replace(/\/+$/, ""); }
    get botId() { return (this.getAttribute("bot-id") || "").trim(); }
    get oauthReturnUrl() { return this.getAttribute("oauth-return-url") || `${this.apiBase}/console/oauth-done`; }

    t(key, vars) {
      return translate(this.uiLang, key, vars);
    }

    /** A request to `/v1/bots/{bot}{rest}`. */
    call(method, rest, options) {
      const tokenSource = async () => (this._getToken ? this._getToken() : this.getAttribute("token"));
      return api(this.apiBase, tokenSource, method, `/bots/${encodeURIComponent(this.botId)}${rest}`, options);
    }

    connectedCallback() {
      window.addEventListener("message", this._onMessage);
      this.schedule("reload");
    }

    disconnectedCallback() {
      window.removeEventListener("message", this._onMessage);
      this.stopOAuthWatch();
    }

    attributeChangedCallback(name, old, value) {
      if (old === value || !this.isConnected || name === "theme") return;
      this.schedule(name === "lang" ? "render" : "reload");
    }

    /** Re-render or reload once, after the current task's attribute and property changes. */
    schedule(what) {
      const rank = { render: 1, reload: 2 };
      const pending = this._scheduled;
      if (pending && rank[pending] >= rank[what]) return;
      this._scheduled = what;
      if (pending) return;
      queueMicrotask(() => {
        const job = this._scheduled;
        this._scheduled = null;
        if (!this.isConnected) return;
        if (job === "reload") {
          this.resetState();
          this.render();
          this.guard(() => this.load());
        } else {
          this.render();
        }
      });
    }

    /** Runs fn now (a click's user activation stays valid); any failure is shown, never thrown. */
    guard(fn) {
      try {
        const result = fn();
        if (result && typeof result.then === "function") result.catch((err) => this.showUnexpected(err));
      } catch (err) {
        this.showUnexpected(err);
      }
    }

    showUnexpected(err) {
      if (this.globalStatus) this.showProblem(this.globalStatus, err, () => this.schedule("reload"));
    }

    // ----- Rendering ---------------------------------------------------------------------------
    render() {
      const root = this.shadowRoot;
      clear(root);
      root.append(h("style", { text: BASE_CSS + CARD_CSS }));
      const card = h("div", { class: "card", lang: this.uiLang });
      this.globalStatus = h("div", { id: "global-status", class: "status", role: "status", "aria-live": "polite" });
      card.append(h("header", {},
        h("h2", { id: "card-title", text: this.t("cardTitle") }),
        this.botId ? h("span", { class: "muted mono", text: this.botId }) : null));
      card.append(this.globalStatus);
      root.append(card);
      if (!this.botId) {
        card.append(h("p", { class: "banner error", text: this.t("noBot") }));
        return;
      }
      // Status elements that outlive a panel's re-rendering (live regions must stay in place).
      this.connStatusEl = h("p", { id: "connection-status", class: "status", role: "status", "aria-live": "polite" });
      this.oauthStatusEl = h("p", { id: "oauth-status", class: "status", role: "status", "aria-live": "polite" });
      this.apiStatusEl = h("p", { id: "api-token-status", class: "status", role: "status", "aria-live": "polite" });
      this.saveStatus = h("div", { id: "save-status", class: "status", role: "status", "aria-live": "polite" });

      const tablist = h("div", { role: "tablist", class: "tabs", "aria-labelledby": "card-title" });
      tablist.addEventListener("keydown", (event) => this.onTabKey(event));
      this.tabButtons = {};
      this.panels = {};
      const panels = h("div", { class: "panels" });
      for (const [id, label] of TABS) {
        const button = h("button", {
          type: "button", role: "tab", id: `tab-${id}`, "aria-controls": `panel-${id}`,
          "aria-selected": "false", tabindex: "-1", text: this.t(label),
          onclick: () => this.selectTab(id, true),
        });
        this.tabButtons[id] = button;
        tablist.append(button);
        this.panels[id] = h("div", { role: "tabpanel", id: `panel-${id}`, "aria-labelledby": `tab-${id}`, tabindex: "0", hidden: true });
        panels.append(this.panels[id]);
      }
      card.append(tablist, panels, this.saveStatus, this.buildDisconnectDialog());
      this.renderConnection();
      this.renderDiagnostics();
      this.renderSettingsTabs();
      this.renderActivity();
      this.selectTab(this.activeTab, false);
    }

    renderSettingsTabs() {
      this.renderRules();
      this.renderMapping();
      this.renderMessages();
    }

    /** What a section shows while its data is missing: loading, or the error with Retry. */
    placeholder(error, retry) {
      if (!error) return h("p", { class: "muted", text: this.t("loading") });
      const box = h("div", { class: "banner error" });
      this.showProblem(box, error, retry || (() => this.schedule("reload")));
      return box;
    }

    // ----- Tabs --------------------------------------------------------------------------------
    selectTab(id, focus) {
      if (!this.panels || !this.panels[id]) return;
      const previous = this.activeTab;
      this.activeTab = id;
      for (const [tab] of TABS) {
        const selected = tab === id;
        this.tabButtons[tab].setAttribute("aria-selected", String(selected));
        this.tabButtons[tab].tabIndex = selected ? 0 : -1;
        this.panels[tab].hidden = !selected;
      }
      if (focus) this.tabButtons[id].focus();
      if (previous !== id) {
        setStatus(this.saveStatus, null);
        if (previous === "messages" && this.secret) {
          this.secret = null; // the callback secret is shown once, and forgotten when leaving
          this.renderSecret();
        }
      }
      this.onTabShown(id);
    }

    onTabKey(event) {
      const ids = TABS.map(([id]) => id);
      const index = ids.indexOf(this.activeTab);
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: ids.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      this.selectTab(ids[(moves[event.key] + ids.length) % ids.length], true);
    }

    onTabShown(id) {
      if (id === "diagnostics" && !this.diagnosticsRan && this.connection) {
        this.diagnosticsRan = true;
        this.guard(() => this.runDiagnostics());
      }
      if (id === "activity" && !this.activityLoaded) this.guard(() => this.loadActivity());
    }

    // ----- Loading -----------------------------------------------------------------------------
    async load() {
      if (!this.botId) return;
      const [connection, settings] = await Promise.allSettled([
        this.call("GET", "/zendesk/connection"), this.call("GET", "/zendesk/settings"),
      ]);
      if (connection.status === "fulfilled") this.connection = connection.value.body;
      else this.connectionError = connection.reason;
      if (settings.status === "fulfilled") {
        this.settings = settings.value.body;
        this.etag = settings.value.etag;
      } else {
        this.settingsError = settings.reason;
      }
      const failure = this.connectionError || this.settingsError;
      if (failure && (failure.status === 401 || failure.network)) {
        this.showProblem(this.globalStatus, failure, () => this.schedule("reload"));
      }
      this.renderConnection();
      this.renderSettingsTabs();
      if (this.activeTab === "diagnostics") this.onTabShown("diagnostics");
      if (this.settings) await this.loadTicketFields();
    }

    // ----- Statuses and problems ---------------------------------------------------------------
    problemText(err) {
      if (!(err instanceof ApiError)) return this.t("errorStatus", { status: "—" });
      if (err.network) return this.t("networkError");
      if (err.status === 401) return this.t("unauthorized");
      const problem = err.problem;
      if (err.status === 403) return (problem && problem.detail) || this.t("forbidden");
      if (problem) return [problem.title, problem.detail].filter(Boolean).join(" — ");
      return this.t("errorStatus", { status: err.status });
    }

    /** Shows a failure in `target` (data-kind=error), with Retry when trying again may help. */
    showProblem(target, err, retry) {
      if (!(err instanceof ApiError)) console.error("handoff-zendesk:", err && err.message ? err.message : err);
      const retryable = !(err instanceof ApiError) || err.network || err.status >= 500;
      setStatus(target, "error", this.problemText(err), retry && retryable
        ? [" ", h("button", { type: "button", class: "secondary", text: this.t("retry"), onclick: () => this.guard(retry) })]
        : null);
      if (err instanceof ApiError && err.status === 401) emit(this, "handoff:unauthorized");
      // Zendesk stopped accepting the connection: the Connection tab says so at once.
      const reconnect = err instanceof ApiError && /reconnect-required$/.test((err.problem && err.problem.type) || "");
      if (reconnect && this.connection && this.connection.state === "connected") this.guard(() => this.reloadConnection());
    }

    // ----- Field marks (422) -------------------------------------------------------------------
    /** Marks each error on the input with the longest matching data-field; answers the unmatched. */
    markFields(errors, scopes) {
      const candidates = scopes.flatMap((scope) => (scope ? [...scope.querySelectorAll("[data-field]")] : []));
      const unmatched = [];
      let first = null;
      for (const error of errors || []) {
        const path = String(error.field || "");
        let best = null;
        for (const el of candidates) {
          const field = el.getAttribute("data-field");
          if (pathUnder(path, field) && (!best || field.length > best.getAttribute("data-field").length)) best = el;
        }
        if (!best) {
          unmatched.push(error);
          continue;
        }
        this.markField(best, error.message);
        first = first || best;
      }
      if (first) {
        const panel = first.closest("[role=tabpanel]");
        if (panel && panel.hidden) this.selectTab(panel.id.replace(/^panel-/, ""), false);
        first.focus();
      }
      return unmatched;
    }

    markField(el, message) {
      const id = `err-${++this.uid}`;
      el.setAttribute("aria-invalid", "true");
      const described = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
      el.setAttribute("aria-describedby", described.concat(id).join(" "));
      (el.closest(".check") || el).after(h("p", { id, class: "field-error", text: message }));
    }

    clearMarks(scopes) {
      for (const scope of scopes) {
        if (!scope) continue;
        scope.querySelectorAll(".field-error").forEach((el) => el.remove());
        scope.querySelectorAll("[aria-invalid]").forEach((el) => {
          el.removeAttribute("aria-invalid");
          const ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter((id) => id && !id.startsWith("err-"));
          if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
          else el.removeAttribute("aria-describedby");
        });
      }
    }

    /** A labelled form field: <div class=field><label for>…</label>control<p hint></div>. */
    field(id, label, control, hint) {
      const hintId = hint ? `${id}-hint` : null;
      if (hintId) control.setAttribute("aria-describedby", hintId);
      return h("div", { class: "field" },
        h("label", { for: id, text: label }), control,
        hint ? h("p", { id: hintId, class: "hint", text: hint }) : null);
    }

    /** A checkbox with its label (and an optional one-line explanation). */
    checkbox(id, label, checked, dataField, hint) {
      const hintId = hint ? `${id}-hint` : null;
      const input = h("input", { type: "checkbox", id, "data-field": dataField, "aria-describedby": hintId, ".checked": Boolean(checked) });
      return h("div", { class: "check" }, input,
        h("div", {}, h("label", { for: id, text: label }), hint ? h("p", { id: hintId, class: "hint", text: hint }) : null));
    }

    $(id) {
      return this.shadowRoot.getElementById(id);
    }
  }

  /** Replaces a status element's content; kind goes to data-kind (none when null). */
  function setStatus(el, kind, ...content) {
    if (!el) return;
    clear(el);
    if (kind) el.setAttribute("data-kind", kind);
    else el.removeAttribute("data-kind");
    append(el, content);
  }

  // ---------------------------------------------------------------------------------------------
  // Tab: Connection (GET/PUT/DELETE …/zendesk/connection, POST …/zendesk/connect)
  // ---------------------------------------------------------------------------------------------
  const STATE_TEXT = {
    connected: ["stateConnected", "✓"], reconnect_required: ["stateReconnect", "⚠"], disconnected: ["stateDisconnected", "○"],
  };
  const MODE_TEXT = { oauth: "modeOauth", client_credentials: "modeClientCredentials", api_token: "modeApiToken" };
  const DISCONNECTED = { state: "disconnected", scopes: [], warnings: [] };

  Object.assign(HandoffZendesk.prototype, {
    renderConnection() {
      const panel = this.panels && clear(this.panels.connection);
      if (!panel) return;
      const c = this.connection;
      if (!c) {
        panel.append(this.placeholder(this.connectionError, () => this.reloadConnection()), this.connStatusEl);
        return;
      }
      const [stateKey, icon] = STATE_TEXT[c.state] || STATE_TEXT.disconnected;
      panel.append(h("p", { id: "connection-state", class: "state", "data-state": c.state || "disconnected" },
        h("span", { "aria-hidden": "true", text: icon }), this.t(stateKey)));
      panel.append(this.connectionFacts(c), this.connStatusEl);
      if (c.state === "reconnect_required") {
        panel.append(h("div", { class: "banner warn" },
          h("p", { text: this.t("reconnectExplain") }),
          h("button", { type: "button", id: "reconnect", text: this.t("reconnect"), onclick: () => this.guard(() => this.reconnect()) })));
      }
      panel.append(h("div", { class: "sections" }, this.oauthSection(c), this.apiTokenSection(c)));
      if (c.state && c.state !== "disconnected") {
        panel.append(h("div", { class: "actions" },
          h("button", { type: "button", id: "disconnect", class: "danger", text: this.t("disconnect"), onclick: () => this.openDisconnect() })));
      }
    },

    connectionFacts(c) {
      const lang = this.uiLang;
      const facts = [];
      const fact = (key, value) => {
        if (value !== null && value !== undefined && value !== "") facts.push(h("dt", { text: this.t(key) }), h("dd", {}, value));
      };
      if (c.state !== "disconnected") {
        fact("subdomain", c.subdomain ? h("span", { class: "mono", text: c.subdomain }) : null);
        fact("mode", c.mode ? this.t(MODE_TEXT[c.mode] || c.mode) : null);
        const user = c.user || {};
        fact("user", user.name || user.email ? [user.name || "", user.name && user.email ? " · " : "", user.email || ""].join("") : null);
        fact("scopes", (c.scopes || []).length ? h("span", { class: "mono", text: c.scopes.join(" ") }) : null);
        fact("accessExpires", c.access_token_expires_at ? timeEl(lang, c.access_token_expires_at) : null);
        fact("refreshExpires", c.refresh_token_expires_at ? timeEl(lang, c.refresh_token_expires_at) : null);
        fact("lastRefresh", c.last_refresh_at ? timeEl(lang, c.last_refresh_at) : null);
      }
      const wrap = h("div", {});
      if (facts.length) wrap.append(h("dl", { class: "facts" }, facts));
      if ((c.warnings || []).length) {
        wrap.append(h("div", { class: "banner warn", id: "connection-warnings" },
          h("strong", { text: this.t("warnings") }),
          h("ul", {}, c.warnings.map((warning) => h("li", { text: warning })))));
      }
      return wrap;
    },

    oauthSection(c) {
      const input = h("input", {
        type: "text", id: "connect-subdomain", value: c.subdomain || "", autocomplete: "off",
        spellcheck: "false", placeholder: "acme", "data-field": "subdomain",
      });
      return h("section", { "aria-labelledby": "oauth-heading" },
        h("h3", { id: "oauth-heading", text: this.t("oauthHeading") }),
        this.field("connect-subdomain", this.t("connectSubdomain"), input, this.t("subdomainHint")),
        h("button", {
          type: "button", id: "connect-oauth", text: this.t("connectOauth"),
          onclick: () => this.guard(() => this.startOAuth(input.value)),
        }),
        this.oauthStatusEl);
    },

    apiTokenSection(c) {
      const legacyDate = new Intl.DateTimeFormat(this.uiLang, { dateStyle: "long", timeZone: "UTC" })
        .format(new Date(Date.UTC(2027, 3, 30)));
      const subdomain = h("input", { type: "text", id: "api-token-subdomain", autocomplete: "off", spellcheck: "false", "data-field": "subdomain", value: c.subdomain || "" });
      const email = h("input", { type: "email", id: "api-token-email", autocomplete: "off", "data-field": "email" });
      const token = h("input", { type: "password", id: "api-token-value", autocomplete: "off", "data-field": "api_token" });
      const form = h("form", { id: "api-token-form", novalidate: true },
        this.field("api-token-subdomain", this.t("connectSubdomain"), subdomain),
        this.field("api-token-email", this.t("apiTokenEmail"), email),
        this.field("api-token-value", this.t("apiToken"), token),
        h("button", { type: "submit", id: "api-token-submit", text: this.t("apiTokenSubmit") }),
        this.apiStatusEl);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.guard(() => this.submitApiToken(form));
      });
      return h("section", { "aria-labelledby": "api-token-heading" },
        h("h3", { id: "api-token-heading", text: this.t("apiTokenHeading") }),
        h("p", { class: "hint", id: "legacy-note", text: this.t("legacyNote", { date: legacyDate }) }),
        form);
    },

    /** Takes a connection answer; re-renders when it changed and tells the page of a change of state. */
    setConnection(next) {
      const previous = this.connection;
      const body = next && next.state ? next : DISCONNECTED;
      if (previous && JSON.stringify(previous) === JSON.stringify(body)) return;
      this.connection = body;
      this.connectionError = null;
      this.renderConnection();
      const was = previous && previous.state;
      const detail = { bot_id: this.botId, subdomain: body.subdomain || null, mode: body.mode || null };
      if (body.state === "connected" && was && was !== "connected") {
        emit(this, "handoff:connected", detail);
        this.guard(() => this.loadTicketFields());
      }
      if (body.state === "disconnected" && was && was !== "disconnected") {
        emit(this, "handoff:disconnected", detail);
        this.guard(() => this.loadTicketFields());
      }
    },

    async reloadConnection() {
      try {
        const { body } = await this.call("GET", "/zendesk/connection");
        this.setConnection(body);
      } catch (err) {
        if (this.connection) this.showProblem(this.connStatusEl, err, () => this.reloadConnection());
        else {
          this.connectionError = err;
          this.renderConnection();
        }
      }
    },

    // ----- OAuth popup -------------------------------------------------------------------------
    /** Opens the popup at once (inside the click, so it is allowed), then sends it to Zendesk. */
    async startOAuth(subdomainText) {
      const subdomain = String(subdomainText || "").trim();
      const status = this.oauthStatusEl;
      this.clearMarks([this.panels.connection]);
      if (!subdomain) {
        setStatus(status, "error", this.t("subdomainRequired"));
        const input = this.$("connect-subdomain");
        if (input) input.focus();
        return;
      }
      this.stopOAuthWatch();
      let popup = null;
      try {
        popup = window.open("", "handoff-zendesk-oauth", "width=600,height=720");
      } catch (_) {
        popup = null;
      }
      if (popup) {
        try {
          popup.document.title = "Zendesk";
          popup.document.body.textContent = this.t("loading");
        } catch (_) { /* not ours to write: fine */ }
      }
      setStatus(status, null, this.t("working"));
      let start;
      try {
        start = (await this.call("POST", "/zendesk/connect", { body: { subdomain, return_url: this.oauthReturnUrl } })).body;
      } catch (err) {
        if (popup && !popup.closed) popup.close();
        this.showProblem(status, err, () => this.startOAuth(subdomain));
        if (err.status === 422 && err.problem) this.markFields(err.problem.errors, [this.$("connect-subdomain")?.parentElement]);
        return;
      }
      const url = start && start.authorize_url;
      if (!url || !isHttpsUrl(url)) {
        if (popup && !popup.closed) popup.close();
        setStatus(status, "error", this.t("errorStatus", { status: 200 }));
        return;
      }
      if (popup && !popup.closed) {
        popup.location.href = url;
        setStatus(status, null, this.t("oauthWaiting"));
        this.watchOAuth(popup);
      } else {
        setStatus(status, null, this.t("popupBlocked"), " ",
          h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: this.t("openZendesk") }));
        this.watchOAuth(null);
      }
    },

    /** Polls the connection every 2 s while the popup is open (or, without one, until connected). */
    watchOAuth(popup) {
      const watch = { popup, started: Date.now(), busy: false };
      watch.timer = setInterval(() => this.guard(() => this.pollOAuth(watch)), 2000);
      this.oauth = watch;
    },

    async pollOAuth(watch) {
      if (this.oauth !== watch) return;
      if (watch.popup && watch.popup.closed) return this.finishOAuth(null);
      if (Date.now() - watch.started > 10 * 60 * 1000) return this.finishOAuth(null);
      if (watch.busy) return;
      watch.busy = true;
      try {
        const { body } = await this.call("GET", "/zendesk/connection");
        if (this.oauth !== watch) return;
        this.setConnection(body);
        if (!watch.popup && body && body.state === "connected") await this.finishOAuth(null);
      } catch (_) {
        // Keep polling: the popup's message or its closing ends the wait and shows the outcome.
      } finally {
        watch.busy = false;
      }
    },

    onOAuthMessage(event) {
      const watch = this.oauth;
      if (!watch || !watch.popup || event.source !== watch.popup) return;
      // Only Handoff's landing page speaks for the outcome, not a page the popup passed through.
      let landing = null;
      try {
        landing = new URL(this.oauthReturnUrl, window.location.href).origin;
      } catch (_) {
        return;
      }
      if (event.origin !== landing) return;
      const data = event.data;
      if (!data || typeof data !== "object" || data.type !== OAUTH_MESSAGE) return;
      this.guard(() => this.finishOAuth(data));
    },

    async finishOAuth(message) {
      this.stopOAuthWatch();
      await this.reloadConnection();
      const status = this.oauthStatusEl;
      if (message && message.outcome === "error") {
        setStatus(status, "error", this.t("oauthFailed", { reason: message.reason ? String(message.reason) : "—" }));
      } else if (this.connection && this.connection.state === "connected") {
        setStatus(status, "saved", this.t("oauthDone"));
      } else {
        setStatus(status, null);
      }
    },

    stopOAuthWatch() {
      if (this.oauth) clearInterval(this.oauth.timer);
      this.oauth = null;
    },

    reconnect() {
      const c = this.connection || {};
      if (c.mode !== "api_token") return this.startOAuth(c.subdomain || (this.$("connect-subdomain") || {}).value);
      const subdomain = this.$("api-token-subdomain");
      const email = this.$("api-token-email");
      if (subdomain) subdomain.value = c.subdomain || subdomain.value;
      const target = email && !email.value ? email : this.$("api-token-value");
      if (target) {
        target.scrollIntoView({ block: "center" });
        target.focus();
      }
    },

    // ----- Legacy API token --------------------------------------------------------------------
    async submitApiToken(form) {
      const tokenInput = this.$("api-token-value");
      const body = {
        mode: "api_token", subdomain: this.$("api-token-subdomain").value.trim(),
        email: this.$("api-token-email").value.trim(), api_token: tokenInput.value,
      };
      tokenInput.value = ""; // never kept in the form, whatever the answer
      this.clearMarks([form]);
      const button = this.$("api-token-submit");
      button.disabled = true;
      setStatus(this.apiStatusEl, null, this.t("working"));
      try {
        const { body: answer } = await this.call("PUT", "/zendesk/connection", { body });
        setStatus(this.apiStatusEl, "saved", this.t("stateConnected"));
        this.setConnection(answer);
      } catch (err) {
        this.showProblem(this.apiStatusEl, err);
        if (err.status === 422 && err.problem) this.markFields(err.problem.errors, [form]);
      } finally {
        button.disabled = false;
      }
    },

    // ----- Disconnect --------------------------------------------------------------------------
    buildDisconnectDialog() {
      const cancel = h("button", { type: "button", id: "disconnect-cancel", class: "secondary", text: this.t("cancel") });
      const confirm = h("button", { type: "button", id: "disconnect-confirm", class: "danger", text: this.t("disconnectConfirm") });
      const dialog = h("dialog", { id: "disconnect-dialog", "aria-labelledby": "disconnect-title", "aria-describedby": "disconnect-text" },
        h("h3", { id: "disconnect-title", text: this.t("disconnectTitle") }),
        h("p", { id: "disconnect-text", text: this.t("disconnectText") }),
        h("div", { class: "actions" }, cancel, confirm));
      cancel.addEventListener("click", () => dialog.close("cancel"));
      confirm.addEventListener("click", () => {
        dialog.close("confirm");
        this.guard(() => this.disconnect());
      });
      dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "confirm") {
          const opener = this.$("disconnect");
          if (opener) opener.focus();
        }
      });
      this.dialog = dialog;
      return dialog;
    },

    openDisconnect() {
      this.dialog.returnValue = "";
      if (typeof this.dialog.showModal === "function") this.dialog.showModal();
      else this.dialog.setAttribute("open", "");
      this.$("disconnect-cancel").focus();
    },

    async disconnect() {
      setStatus(this.connStatusEl, null, this.t("working"));
      try {
        const { body } = await this.call("DELETE", "/zendesk/connection");
        this.setConnection(body && body.state ? body : DISCONNECTED);
        if (this.settings) this.settings.callback_secret_set = false;
        this.updateSecretState();
        setStatus(this.connStatusEl, "saved", this.t("disconnected"));
        const state = this.$("connect-subdomain");
        if (state) state.focus();
      } catch (err) {
        this.showProblem(this.connStatusEl, err, () => this.disconnect());
      }
    },
  });

  // ---------------------------------------------------------------------------------------------
  // Tab: Diagnostics (GET …/zendesk/diagnostics)
  // ---------------------------------------------------------------------------------------------
  const CHECK_TEXT = { pass: ["statusPass", "✓"], warn: ["statusWarn", "⚠"], fail: ["statusFail", "✗"] };

  Object.assign(HandoffZendesk.prototype, {
    renderDiagnostics() {
      const panel = clear(this.panels.diagnostics);
      this.diagStatusEl = h("p", { id: "diagnostics-status", class: "status", role: "status", "aria-live": "polite" });
      this.diagEl = h("div", { id: "diagnostics", "aria-live": "polite" });
      panel.append(
        h("p", { text: this.t("diagIntro") }),
        h("button", { type: "button", id: "run-diagnostics", text: this.t("runDiagnostics"), onclick: () => this.guard(() => this.runDiagnostics()) }),
        this.diagStatusEl, this.diagEl);
      this.renderDiagnosticsResult();
    },

    async runDiagnostics() {
      const button = this.$("run-diagnostics");
      if (button) button.disabled = true;
      setStatus(this.diagStatusEl, null, this.t("working"));
      try {
        this.diagnostics = (await this.call("GET", "/zendesk/diagnostics")).body;
        setStatus(this.diagStatusEl, null);
      } catch (err) {
        this.showProblem(this.diagStatusEl, err, () => this.runDiagnostics());
      } finally {
        if (button) button.disabled = false;
        this.renderDiagnosticsResult();
      }
    },

    badge(status) {
      const [key, icon] = CHECK_TEXT[status] || CHECK_TEXT.fail;
      return h("span", { class: "badge", "data-status": status }, h("span", { "aria-hidden": "true", text: `${icon} ` }), this.t(key));
    },

    renderDiagnosticsResult() {
      const box = clear(this.diagEl);
      const result = this.diagnostics;
      if (!box || !result) return;
      box.append(h("p", { id: "diagnostics-overall", "data-status": result.status },
        h("strong", { text: `${this.t("overall")}: ` }), this.badge(result.status)));
      const checks = Array.isArray(result.checks) ? result.checks : [];
      if (!checks.length) box.append(h("p", { class: "muted", text: this.t("diagNone") }));
      box.append(h("ul", { class: "checks" }, checks.map((check) => h("li", { "data-check": check.check, "data-status": check.status },
        h("div", { class: "row" }, this.badge(check.status), h("strong", { class: "mono", text: check.check })),
        h("p", { text: check.detail || "" }),
        check.fix ? h("p", {}, h("strong", { text: `${this.t("fix")} ` }), check.fix) : null))));
    },
  });

  // ---------------------------------------------------------------------------------------------
  // Tab: Escalation rules (settings.rules; POST …/rules/try)
  // ---------------------------------------------------------------------------------------------
  Object.assign(HandoffZendesk.prototype, {
    renderRules() {
      const panel = clear(this.panels.rules);
      if (!this.settings) return panel.append(this.placeholder(this.settingsError));
      const rules = this.settings.rules || {};
      const rule = (name) => rules[name] || {};
      const toggles = RULES.map((name) => {
        const [label, hint] = RULE_LABELS[name];
        return h("div", { class: "rule" },
          this.checkbox(`rule-${name}`, this.t(label), rule(name).enabled, `rules.${name}.enabled`, this.t(hint)),
          this.ruleParameters(name, rule(name)));
      });
      panel.append(
        h("fieldset", {}, h("legend", { text: this.t("rulesLegend") }), toggles),
        this.phraseGroup("extra_phrases", "extra-phrases", rule("explicit_request").extra_phrases, "extraPhrases", "extraPhrasesHint"),
        this.phraseGroup("exclusions", "exclusions", rule("explicit_request").exclusions, "exclusions", "exclusionsHint"),
        this.trySection(),
        h("div", { class: "actions" },
          h("button", { type: "button", id: "save-rules", text: this.t("saveRules"), onclick: () => this.guard(() => this.save("rules")) })));
    },

    /** The inputs that belong to one rule, shown under its toggle. */
    ruleParameters(name, rule) {
      const number = (id, field, value, attrs) => h("input", Object.assign({
        type: "number", id, "data-field": field, value: value === undefined || value === null ? "" : String(value), inputmode: "decimal",
      }, attrs));
      if (name === "low_confidence") {
        return h("div", { class: "row" }, this.field("low-confidence-threshold", this.t("threshold"),
          number("low-confidence-threshold", "rules.low_confidence.threshold", rule.threshold, { min: "0", max: "1", step: "0.05" })));
      }
      if (name === "low_rating") {
        return h("div", {},
          h("div", { class: "row" },
            this.field("low-rating-at-or-below", this.t("atOrBelow"), number("low-rating-at-or-below", "rules.low_rating.at_or_below", rule.at_or_below, { min: "0", step: "any" })),
            this.field("low-rating-scale", this.t("scale"), number("low-rating-scale", "rules.low_rating.scale", rule.scale, { min: "0", step: "any" }))),
          this.checkbox("low-rating-thumbs-down", this.t("thumbsDown"), rule.thumbs_down, "rules.low_rating.thumbs_down"));
      }
      if (name === "action") {
        return this.field("actions", this.t("actions"),
          h("textarea", { id: "actions", "data-field": "rules.action.actions", spellcheck: "false", ".value": (rule.actions || []).join("\n") }));
      }
      return null;
    },

    /** Per-language rows of phrases (extra_phrases or exclusions). */
    phraseGroup(kind, id, map, labelKey, hintKey) {
      const rows = h("div", { class: "rows" });
      for (const [code, list] of Object.entries(map || {})) rows.append(this.phraseRow(kind, code, list));
      const add = h("button", { type: "button", class: "secondary", id: `${id}-add`, text: this.t("addLanguage") });
      add.addEventListener("click", () => {
        const row = this.phraseRow(kind, "", []);
        rows.append(row);
        row.querySelector("input").focus();
      });
      return h("fieldset", { id, "aria-describedby": `${id}-hint` },
        h("legend", { text: this.t(labelKey) }),
        h("p", { id: `${id}-hint`, class: "hint", text: this.t(hintKey) }),
        rows, add);
    },

    phraseRow(kind, code, list) {
      const n = ++this.uid;
      const base = `rules.explicit_request.${kind}`;
      const codeInput = h("input", { type: "text", id: `${kind}-code-${n}`, class: "lang-code", "data-field": base, value: code, autocomplete: "off", spellcheck: "false", placeholder: "en" });
      const text = h("textarea", { id: `${kind}-text-${n}`, class: "phrases", "data-field": `${base}.${code}`, ".value": (list || []).join("\n") });
      codeInput.addEventListener("input", () => text.setAttribute("data-field", `${base}.${codeInput.value.trim()}`));
      const row = h("div", { class: "lang-row", "data-row": kind });
      const remove = h("button", { type: "button", class: "secondary", text: this.t("remove"), "aria-describedby": codeInput.id });
      remove.addEventListener("click", () => {
        const add = row.closest("fieldset").querySelector(".rows + button");
        row.remove();
        if (add) add.focus();
      });
      row.append(h("div", { class: "row" }, h("div", { class: "grow" }, this.field(codeInput.id, this.t("langCode"), codeInput)), remove),
        this.field(text.id, this.t("phrases"), text));
      return row;
    },

    collectPhrases(id) {
      const result = {};
      const group = this.$(id);
      if (!group) return result;
      for (const row of group.querySelectorAll(".lang-row")) {
        const code = row.querySelector(".lang-code").value.trim();
        const phrases = lines(row.querySelector(".phrases").value);
        if (code || phrases.length) result[code] = phrases;
      }
      return result;
    },

    /** The rules as the form holds them, over `base` (the last answer's rules). */
    collectRules(base) {
      const rules = clone(base) || {};
      for (const name of RULES) {
        rules[name] = Object.assign({}, rules[name], { enabled: this.$(`rule-${name}`).checked });
      }
      setNumber(rules.low_confidence, "threshold", this.$("low-confidence-threshold"));
      setNumber(rules.low_rating, "at_or_below", this.$("low-rating-at-or-below"));
      setNumber(rules.low_rating, "scale", this.$("low-rating-scale"));
      rules.low_rating.thumbs_down = this.$("low-rating-thumbs-down").checked;
      rules.action.actions = lines(this.$("actions").value);
      rules.explicit_request.extra_phrases = this.collectPhrases("extra-phrases");
      rules.explicit_request.exclusions = this.collectPhrases("exclusions");
      return rules;
    },

    trySection() {
      this.tryResultEl = h("p", { id: "try-result", class: "status", role: "status", "aria-live": "polite" });
      const message = h("textarea", { id: "try-message", "data-field": "message", maxlength: "5000" });
      return h("section", { class: "try", "aria-labelledby": "try-heading" },
        h("h3", { id: "try-heading", text: this.t("tryHeading") }),
        this.field("try-message", this.t("tryMessage"), message, this.t("tryHint")),
        h("button", { type: "button", id: "try-submit", class: "secondary", text: this.t("trySubmit"), onclick: () => this.guard(() => this.tryMessage()) }),
        this.tryResultEl);
    },

    async tryMessage() {
      const result = this.tryResultEl;
      const button = this.$("try-submit");
      this.clearMarks([this.panels.rules]);
      result.removeAttribute("data-fires");
      setStatus(result, null, this.t("working"));
      button.disabled = true;
      try {
        const body = { message: this.$("try-message").value, rules: this.collectRules(this.settings.rules) };
        const { body: answer } = await this.call("POST", "/rules/try", { body });
        const fires = Boolean(answer && answer.fires);
        result.setAttribute("data-fires", String(fires));
        setStatus(result, null,
          h("strong", {}, h("span", { "aria-hidden": "true", text: fires ? "⚑ " : "○ " }), this.t(fires ? "wouldEscalate" : "wouldNot")),
          answer && answer.reason ? ` — ${answer.reason}` : "",
          answer && answer.matched ? [" ", h("span", { class: "muted", text: this.t("heard", { text: answer.matched }) })] : null);
      } catch (err) {
        this.showProblem(result, err, () => this.tryMessage());
        if (err.status === 422 && err.problem) this.markFields(err.problem.errors, [this.panels.rules]);
      } finally {
        button.disabled = false;
      }
    },
  });

  /** Sets obj[key] from a number input; an empty input leaves the key out (the default). */
  function setNumber(obj, key, input) {
    if (!obj || !input) return;
    const text = input.value.trim();
    if (text === "") delete obj[key];
    else obj[key] = Number(text);
  }

  // ---------------------------------------------------------------------------------------------
  // Tab: Field mapping (settings.mapping, settings.priority_by_rule; GET …/zendesk/ticket-fields)
  // ---------------------------------------------------------------------------------------------
  Object.assign(HandoffZendesk.prototype, {
    renderMapping() {
      const panel = clear(this.panels.mapping);
      if (!this.settings) return panel.append(this.placeholder(this.settingsError));
      const m = this.settings.mapping || {};
      const priorities = this.settings.priority_by_rule || {};
      this.fieldsNoteEl = h("p", { id: "fields-note", class: "status", role: "status", "aria-live": "polite" });
      const rows = h("div", { id: "metadata-fields" });
      for (const [key, id] of Object.entries(m.metadata_fields || {})) rows.append(this.metadataRow(key, id));
      const addRow = h("button", { type: "button", class: "secondary", id: "metadata-add", text: this.t("addField") });
      addRow.addEventListener("click", () => {
        const row = this.metadataRow("", null);
        rows.append(row);
        row.querySelector("input").focus();
      });
      panel.append(this.fieldsNoteEl,
        h("div", { class: "row" },
          h("div", { class: "grow" }, this.field("field-conversation-url", this.t("fieldConversationUrl"),
            this.fieldSelect("field-conversation-url", "mapping.conversation_url_field_id", m.conversation_url_field_id))),
          h("div", { class: "grow" }, this.field("field-rating", this.t("fieldRating"),
            this.fieldSelect("field-rating", "mapping.rating_field_id", m.rating_field_id)))),
        h("fieldset", { "aria-describedby": "metadata-hint" },
          h("legend", { text: this.t("metadataFields") }),
          h("p", { id: "metadata-hint", class: "hint", text: this.t("metadataHint") }),
          rows, addRow),
        this.field("placeholder-email-domain", this.t("placeholderDomain"),
          h("input", { type: "text", id: "placeholder-email-domain", "data-field": "mapping.placeholder_email_domain", value: m.placeholder_email_domain || "", autocomplete: "off", spellcheck: "false" }),
          this.t("placeholderHint")),
        this.field("extra-tags", this.t("extraTags"),
          h("input", { type: "text", id: "extra-tags", "data-field": "mapping.extra_tags", value: (m.extra_tags || []).join(", "), autocomplete: "off", spellcheck: "false" }),
          this.t("extraTagsHint")),
        this.checkbox("summary-public", this.t("summaryPublic"), m.summary_public, "mapping.summary_public"),
        h("fieldset", {},
          h("legend", { text: this.t("priorityHeading") }),
          h("div", { class: "row" }, RULES.map((rule) => h("div", { class: "grow" },
            this.field(`priority-${rule}`, this.t(RULE_LABELS[rule][0]), this.prioritySelect(rule, priorities[rule])))))),
        h("div", { class: "actions" },
          h("button", { type: "button", id: "save-mapping", text: this.t("saveMapping"), onclick: () => this.guard(() => this.save("mapping")) })));
      this.renderFieldsNote();
    },

    prioritySelect(rule, value) {
      const select = h("select", { id: `priority-${rule}`, "data-field": `priority_by_rule.${rule}` },
        h("option", { value: "", text: this.t("priorityDefault") }),
        PRIORITIES.map((p) => h("option", { value: p, text: this.t(`priority${p[0].toUpperCase()}${p.slice(1)}`) })));
      select.value = PRIORITIES.includes(value) ? value : "";
      return select;
    },

    /** A <select> of the account's ticket fields by title; keeps the chosen id in data-value. */
    fieldSelect(id, dataField, value) {
      const select = h("select", { id, class: "ticket-field", "data-field": dataField });
      select.addEventListener("change", () => select.setAttribute("data-value", select.value));
      this.fillFieldSelect(select, value === null || value === undefined ? "" : String(value));
      return select;
    },

    fillFieldSelect(select, selected) {
      clear(select);
      select.append(h("option", { value: "", text: this.t("noneOption") }));
      const fields = this.ticketFields || [];
      for (const field of fields) {
        const title = field.active === false ? `${field.title} ${this.t("inactive")}` : field.title;
        select.append(h("option", { value: String(field.id), text: title }));
      }
      if (selected && !fields.some((field) => String(field.id) === selected)) {
        const key = this.ticketFields ? "unknownField" : "fieldById";
        select.append(h("option", { value: selected, text: this.t(key, { id: selected }) }));
      }
      select.value = selected;
      select.setAttribute("data-value", selected);
    },

    refreshFieldSelects() {
      const panel = this.panels && this.panels.mapping;
      if (!panel) return;
      panel.querySelectorAll("select.ticket-field").forEach((select) => this.fillFieldSelect(select, select.getAttribute("data-value") || ""));
    },

    metadataRow(key, id) {
      const n = ++this.uid;
      const keyInput = h("input", { type: "text", id: `metadata-key-${n}`, class: "metadata-key", "data-field": "mapping.metadata_fields", value: key, autocomplete: "off", spellcheck: "false" });
      const select = this.fieldSelect(`metadata-field-${n}`, `mapping.metadata_fields.${key}`, id);
      keyInput.addEventListener("input", () => select.setAttribute("data-field", `mapping.metadata_fields.${keyInput.value.trim()}`));
      const row = h("div", { class: "row lang-row", "data-row": "metadata" });
      const remove = h("button", { type: "button", class: "secondary", text: this.t("remove"), "aria-describedby": keyInput.id });
      remove.addEventListener("click", () => {
        row.remove();
        this.$("metadata-add").focus();
      });
      row.append(h("div", { class: "grow" }, this.field(keyInput.id, this.t("metadataKey"), keyInput)),
        h("div", { class: "grow" }, this.field(select.id, this.t("ticketField"), select)), remove);
      return row;
    },

    async loadTicketFields() {
      if (!this.connection || this.connection.state !== "connected") {
        this.ticketFields = null;
        this.fieldsProblem = "not-connected";
      } else {
        setStatus(this.fieldsNoteEl, null, this.t("loading"));
        try {
          this.ticketFields = ((await this.call("GET", "/zendesk/ticket-fields")).body || {}).ticket_fields || [];
          this.fieldsProblem = null;
        } catch (err) {
          this.ticketFields = null;
          const notConnected = err.status === 409 || /not-connected$/.test((err.problem && err.problem.type) || "");
          this.fieldsProblem = notConnected ? "not-connected" : err;
        }
      }
      this.renderFieldsNote();
      this.refreshFieldSelects();
    },

    renderFieldsNote() {
      const note = this.fieldsNoteEl;
      if (!note) return;
      if (this.fieldsProblem === "not-connected") setStatus(note, null, this.t("fieldsNotConnected"));
      else if (this.fieldsProblem) this.showProblem(note, this.fieldsProblem, () => this.loadTicketFields());
      else setStatus(note, null);
    },

    collectMapping(base) {
      const mapping = clone(base.mapping) || {};
      const fieldId = (select) => (select.value === "" ? null : Number(select.value));
      mapping.conversation_url_field_id = fieldId(this.$("field-conversation-url"));
      mapping.rating_field_id = fieldId(this.$("field-rating"));
      mapping.metadata_fields = {};
      for (const row of this.$("metadata-fields").querySelectorAll("[data-row=metadata]")) {
        const key = row.querySelector(".metadata-key").value.trim();
        const select = row.querySelector("select");
        if (select.value !== "") mapping.metadata_fields[key] = Number(select.value);
      }
      const domain = this.$("placeholder-email-domain").value.trim();
      if (domain) mapping.placeholder_email_domain = domain;
      else delete mapping.placeholder_email_domain;
      mapping.extra_tags = this.$("extra-tags").value.split(/[\s,]+/).filter(Boolean);
      mapping.summary_public = this.$("summary-public").checked;
      const priorityByRule = {};
      for (const rule of RULES) {
        const value = this.$(`priority-${rule}`).value;
        if (value) priorityByRule[rule] = value;
      }
      return { mapping, priority_by_rule: priorityByRule };
    },
  });

  // ---------------------------------------------------------------------------------------------
  // Tab: Handoff messages & callback (settings.handoff_messages, callback_url, rotate secret)
  // ---------------------------------------------------------------------------------------------
  const LOCALE_PATTERN = /^[A-Za-z0-9_-]{1,35}$/;

  Object.assign(HandoffZendesk.prototype, {
    renderMessages() {
      const panel = clear(this.panels.messages);
      if (!this.settings) return panel.append(this.placeholder(this.settingsError));
      const s = this.settings;
      const list = h("div", { id: "handoff-messages" });
      // Handoff's own languages first, each showing its built-in text until the bot sets its own.
      const defaults = s.default_handoff_messages || {};
      const custom = s.handoff_messages || {};
      const locales = Object.keys(defaults).concat(Object.keys(custom).filter((locale) => !Object.hasOwn(defaults, locale)));
      for (const locale of locales) list.append(this.messageField(locale, custom[locale], defaults[locale]));
      const newLocale = h("input", { type: "text", id: "new-locale", "data-field": "handoff_messages", autocomplete: "off", spellcheck: "false", size: "10", placeholder: "pt-BR" });
      const add = () => this.addLocale(newLocale, list);
      newLocale.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          add();
        }
      });
      this.secretStateEl = h("p", { id: "callback-secret-state" });
      this.secretBox = h("div", { id: "secret-box" });
      panel.append(
        h("h3", { text: this.t("messagesHeading") }),
        h("p", { id: "messages-hint", class: "hint", text: this.t("messagesHint") }),
        list,
        h("div", { class: "row" },
          h("div", {}, this.field("new-locale", this.t("newLocale"), newLocale)),
          h("button", { type: "button", id: "add-locale", class: "secondary", text: this.t("addLocale"), onclick: add })),
        h("h3", { text: this.t("callbackHeading") }),
        this.field("callback-url", this.t("callbackUrl"),
          h("input", { type: "url", id: "callback-url", "data-field": "callback_url", value: s.callback_url || "", autocomplete: "off", spellcheck: "false", placeholder: "https://" }),
          this.t("callbackHint")),
        this.secretStateEl,
        h("button", { type: "button", id: "rotate-secret", class: "secondary", text: this.t("rotateSecret"), onclick: () => this.guard(() => this.save("messages", { rotate: true })) }),
        this.secretBox,
        h("div", { class: "actions" },
          h("button", { type: "button", id: "save-messages", text: this.t("saveMessages"), onclick: () => this.guard(() => this.save("messages")) })));
      this.updateSecretState();
      this.renderSecret();
    },

    messageField(locale, text, builtIn) {
      const id = `message-${locale}`;
      const area = h("textarea", { id, "data-field": `handoff_messages.${locale}`, "data-locale": locale, maxlength: "1000", ".value": text || "" });
      if (builtIn) area.setAttribute("placeholder", builtIn);
      const field = this.field(id, this.t("messageFor", { locale }), area);
      area.setAttribute("aria-describedby", "messages-hint");
      return field;
    },

    addLocale(input, list) {
      const locale = input.value.trim();
      if (!locale) return input.focus();
      const existing = this.$(`message-${locale}`);
      if (existing) return existing.focus();
      this.clearMarks([input.parentElement]);
      if (!LOCALE_PATTERN.test(locale)) {
        this.markField(input, "A-Z a-z 0-9 _ -");
        return input.focus();
      }
      list.append(this.messageField(locale, ""));
      input.value = "";
      this.$(`message-${locale}`).focus();
    },

    updateSecretState() {
      if (!this.secretStateEl || !this.settings) return;
      this.secretStateEl.textContent = this.t(this.settings.callback_secret_set ? "secretSet" : "secretNotSet");
    },

    /** The callback secret, shown once after the save that made it; gone on leaving or saving. */
    renderSecret() {
      const box = clear(this.secretBox);
      if (!box || !this.secret) return;
      const copied = h("span", { class: "status", role: "status", "aria-live": "polite" });
      const input = h("input", { type: "text", id: "callback-secret", readonly: true, ".value": this.secret, autocomplete: "off", spellcheck: "false", "aria-describedby": "callback-secret-note" });
      const copy = h("button", { type: "button", id: "copy-secret", class: "secondary", text: this.t("copy") });
      copy.addEventListener("click", () => {
        const done = () => setStatus(copied, "saved", this.t("copied"));
        const fallback = () => {
          input.select();
          if (document.execCommand && document.execCommand("copy")) done();
        };
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(input.value).then(done, fallback);
        else fallback();
      });
      box.append(h("div", { class: "banner warn" },
        h("label", { for: "callback-secret", text: this.t("secretLabel") }),
        h("div", { class: "secret" }, input, copy),
        h("p", { id: "callback-secret-note", text: this.t("secretNote") }), copied));
      input.focus();
      input.select();
    },

    collectMessages(base) {
      const messages = {};
      for (const area of this.$("handoff-messages").querySelectorAll("textarea[data-locale]")) {
        if (area.value.trim()) messages[area.getAttribute("data-locale")] = area.value.trim();
      }
      const url = this.$("callback-url").value.trim();
      return { handoff_messages: messages, callback_url: url || null };
    },
  });

  // ---------------------------------------------------------------------------------------------
  // Saving settings (all three save buttons): whole, over the last answer, with If-Match.
  // ---------------------------------------------------------------------------------------------
  Object.assign(HandoffZendesk.prototype, {
    settingsScopes() {
      return SETTINGS_TABS.map((tab) => this.panels[tab]);
    },

    /** Saves the settings with one tab's edits applied (`extra.rotate`: make a new callback secret). */
    async save(tab, extra) {
      if (!this.settings) return;
      const scopes = this.settingsScopes();
      const status = this.saveStatus;
      this.clearMarks(scopes);
      this.secret = null;
      this.renderSecret();
      const body = clone(this.settings);
      delete body.warnings;
      delete body.callback_secret;
      if (tab === "rules") body.rules = this.collectRules(body.rules);
      if (tab === "mapping") Object.assign(body, this.collectMapping(body));
      if (tab === "messages") Object.assign(body, this.collectMessages(body));
      if (extra && extra.rotate) body.rotate_callback_secret = true;
      const buttons = [this.$(`save-${tab}`), this.$("rotate-secret")].filter(Boolean);
      buttons.forEach((button) => { button.disabled = true; });
      setStatus(status, null, this.t("saving"));
      try {
        // The ETag is `"{version}"`: a page whose origin cannot read the header (CORS without
        // `ExposeHeaders`) still saves only over the version it read, never unconditionally.
        const version = this.settings && Number.isInteger(this.settings.version) ? `"${this.settings.version}"` : null;
        const ifMatch = this.etag || version;
        const answer = await this.call("PUT", "/zendesk/settings", { body, headers: ifMatch ? { "If-Match": ifMatch } : {} });
        this.applySaved(tab, answer);
      } catch (err) {
        this.saveFailed(err, tab, extra, scopes);
      } finally {
        buttons.forEach((button) => { if (button.isConnected) button.disabled = false; });
      }
    },

    applySaved(tab, answer) {
      const saved = answer.body || {};
      this.secret = typeof saved.callback_secret === "string" ? saved.callback_secret : null;
      delete saved.callback_secret;
      this.settings = saved;
      if (answer.etag) this.etag = answer.etag;
      if (tab === "rules") this.renderRules();
      if (tab === "mapping") this.renderMapping();
      if (tab === "messages") this.renderMessages();
      const warnings = Array.isArray(saved.warnings) ? saved.warnings : [];
      setStatus(this.saveStatus, "saved", h("span", { "aria-hidden": "true", text: "✓ " }), this.t("saved"),
        warnings.length ? h("div", { class: "banner warn" }, h("strong", { text: this.t("warnings") }),
          h("ul", {}, warnings.map((warning) => h("li", { text: warning })))) : null);
      if (!this.secret) {
        const button = this.$(`save-${tab}`);
        if (button) button.focus();
      }
      emit(this, "handoff:saved", { bot_id: this.botId, version: saved.version, section: tab });
    },

    saveFailed(err, tab, extra, scopes) {
      const status = this.saveStatus;
      if (err.status === 412) {
        setStatus(status, "stale", this.t("stale"), " ",
          h("button", { type: "button", id: "reload-settings", class: "secondary", text: this.t("reload"), onclick: () => this.guard(() => this.reloadSettings()) }));
        return;
      }
      const errors = err.status === 422 && err.problem && Array.isArray(err.problem.errors) ? err.problem.errors : null;
      if (!errors || !errors.length) {
        this.showProblem(status, err, () => this.save(tab, extra));
        return;
      }
      const unmatched = this.markFields(errors, scopes);
      setStatus(status, "error", this.t("invalid"), " ", this.problemText(err),
        unmatched.length ? h("ul", {}, unmatched.map((e) => h("li", {}, h("code", { text: e.field }), `: ${e.message}`))) : null);
    },

    /** Reads the settings again (after 412), dropping the forms' edits. */
    async reloadSettings() {
      setStatus(this.saveStatus, null, this.t("loading"));
      try {
        const answer = await this.call("GET", "/zendesk/settings");
        this.settings = answer.body;
        this.etag = answer.etag;
        this.settingsError = null;
        this.secret = null;
        this.renderSettingsTabs();
        setStatus(this.saveStatus, null);
        const tab = this.tabButtons[this.activeTab];
        if (tab) tab.focus();
      } catch (err) {
        this.showProblem(this.saveStatus, err, () => this.reloadSettings());
      }
    },
  });

  // ---------------------------------------------------------------------------------------------
  // Tab: Activity (GET …/audit, GET …/escalations, POST …/conversations/{id}/escalations)
  // ---------------------------------------------------------------------------------------------
  Object.assign(HandoffZendesk.prototype, {
    renderActivity() {
      const panel = clear(this.panels.activity);
      this.auditStatusEl = h("p", { id: "audit-status", class: "status", role: "status", "aria-live": "polite" });
      this.escalationsStatusEl = h("p", { id: "escalations-status", class: "status", role: "status", "aria-live": "polite" });
      this.auditBody = h("tbody", {});
      this.escalationsBody = h("tbody", {});
      const head = (keys) => h("thead", {}, h("tr", {}, keys.map((key) => h("th", { scope: "col", text: this.t(key) }))));
      this.auditMore = h("button", { type: "button", id: "audit-more", class: "secondary", hidden: true, text: this.t("more"), onclick: () => this.guard(() => this.loadAudit(true)) });
      panel.append(
        h("div", { class: "actions" },
          h("button", { type: "button", id: "activity-refresh", class: "secondary", text: this.t("refresh"), onclick: () => this.guard(() => this.loadActivity()) })),
        h("h3", { id: "audit-heading", text: this.t("auditHeading") }), this.auditStatusEl,
        h("div", { class: "table-wrap" }, h("table", { id: "audit", "aria-labelledby": "audit-heading" },
          head(["colTime", "colAction", "colOutcome", "colActor", "colDetail"]), this.auditBody)),
        this.auditMore,
        h("h3", { id: "escalations-heading", text: this.t("escalationsHeading") }), this.escalationsStatusEl,
        h("div", { class: "table-wrap" }, h("table", { id: "escalations", "aria-labelledby": "escalations-heading" },
          head(["colConversation", "colAge", "colState", "colRule", "colAttempts", "colError"]), this.escalationsBody)),
        this.manualSection());
      this.fillAudit();
      this.fillEscalations();
    },

    async loadActivity() {
      this.activityLoaded = true;
      await Promise.all([this.loadAudit(false), this.loadEscalations()]);
    },

    async loadAudit(more) {
      const cursor = more && this.auditCursor ? `&cursor=${encodeURIComponent(this.auditCursor)}` : "";
      setStatus(this.auditStatusEl, null, this.t("loading"));
      this.auditMore.disabled = true;
      try {
        const page = (await this.call("GET", `/audit?limit=20${cursor}`)).body || {};
        const entries = Array.isArray(page.entries) ? page.entries : [];
        this.audit = more ? this.audit.concat(entries) : entries;
        this.auditCursor = page.next_cursor || null;
        setStatus(this.auditStatusEl, null);
      } catch (err) {
        this.showProblem(this.auditStatusEl, err, () => this.loadAudit(more));
      } finally {
        this.auditMore.disabled = false;
        this.fillAudit();
        if (more && !this.auditMore.hidden) this.auditMore.focus();
      }
    },

    fillAudit() {
      const body = clear(this.auditBody);
      this.auditMore.hidden = !this.auditCursor;
      if (!this.activityLoaded) return;
      if (!this.audit.length) {
        body.append(h("tr", {}, h("td", { colspan: "5", class: "muted", text: this.t("auditEmpty") })));
        return;
      }
      for (const entry of this.audit) {
        const detail = Object.entries(entry.detail || {});
        body.append(h("tr", {},
          h("td", {}, timeEl(this.uiLang, entry.at)),
          h("td", {}, h("code", { text: entry.action || "" })),
          h("td", { text: entry.outcome || "" }),
          h("td", { text: entry.actor || "—" }),
          h("td", {}, detail.length ? h("ul", { class: "kv" }, detail.map(([k, v]) => h("li", {}, h("code", { text: k }), `=${v}`))) : "—")));
      }
    },

    async loadEscalations() {
      setStatus(this.escalationsStatusEl, null, this.t("loading"));
      try {
        const answer = (await this.call("GET", "/escalations")).body || {};
        this.escalations = Array.isArray(answer.escalations) ? answer.escalations : [];
        setStatus(this.escalationsStatusEl, null);
      } catch (err) {
        this.showProblem(this.escalationsStatusEl, err, () => this.loadEscalations());
      }
      this.fillEscalations();
    },

    fillEscalations() {
      const body = clear(this.escalationsBody);
      if (!this.escalations) return;
      if (!this.escalations.length) {
        body.append(h("tr", {}, h("td", { colspan: "6", class: "muted", text: this.t("escalationsEmpty") })));
        return;
      }
      const now = Date.now();
      for (const item of this.escalations) {
        const failed = item.state === "failed";
        body.append(h("tr", { "data-state": item.state },
          h("td", {}, h("code", { text: item.conversation_id })),
          h("td", {}, ageEl(this.uiLang, item.started_at, now)),
          h("td", {}, h("span", { "aria-hidden": "true", text: failed ? "✗ " : "… " }), this.t(failed ? "stateFailed" : "statePending")),
          h("td", { text: item.rule && RULE_LABELS[item.rule] ? this.t(RULE_LABELS[item.rule][0]) : "—" }),
          h("td", { text: String(item.attempts ?? "—") }),
          h("td", { text: item.last_error || "—" })));
      }
    },

    manualSection() {
      this.manualResultEl = h("p", { id: "manual-result", class: "status", role: "status", "aria-live": "polite" });
      const form = h("form", { id: "manual-form", novalidate: true, "aria-labelledby": "manual-heading" },
        h("h3", { id: "manual-heading", text: this.t("manualHeading") }),
        h("div", { class: "row" },
          h("div", { class: "grow" }, this.field("manual-conversation", this.t("manualConversation"),
            h("input", { type: "text", id: "manual-conversation", "data-field": "conversation_id", autocomplete: "off", spellcheck: "false", maxlength: "128" }))),
          h("div", { class: "grow" }, this.field("manual-subject", this.t("manualSubject"),
            h("input", { type: "text", id: "manual-subject", "data-field": "subject", maxlength: "150" })))),
        h("button", { type: "submit", id: "manual-submit", text: this.t("manualSubmit") }),
        this.manualResultEl);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.guard(() => this.manualEscalate(form));
      });
      return form;
    },

    async manualEscalate(form) {
      const result = this.manualResultEl;
      const conversation = this.$("manual-conversation");
      const id = conversation.value.trim();
      this.clearMarks([form]);
      if (!id) {
        setStatus(result, "error", this.t("conversationRequired"));
        return conversation.focus();
      }
      const body = { trigger: "manual" };
      const subject = this.$("manual-subject").value.trim();
      if (subject) body.subject = subject;
      const button = this.$("manual-submit");
      button.disabled = true;
      setStatus(result, null, this.t("working"));
      try {
        const answer = await this.call("POST", `/conversations/${encodeURIComponent(id)}/escalations`, { body });
        this.showEscalation(result, answer);
        if (this.activityLoaded) this.guard(() => this.loadEscalations());
      } catch (err) {
        this.showProblem(result, err, () => this.manualEscalate(form));
        if (err.status === 422 && err.problem) this.markFields(err.problem.errors, [form]);
      } finally {
        button.disabled = false;
      }
    },

    showEscalation(result, answer) {
      const b = answer.body || {};
      const ticket = b.ticket || {};
      const ticketId = b.ticket_id ?? ticket.id;
      const link = ticket.url && isHttpsUrl(ticket.url)
        ? [" ", h("a", { href: ticket.url, target: "_blank", rel: "noopener noreferrer", text: "Zendesk ↗" })] : null;
      if (answer.status === 202) setStatus(result, "pending", this.t("pending"));
      else if (b.escalated === false) setStatus(result, "error", this.t("notEscalated", { reason: b.reason || "—" }));
      else if (b.deduplicated) setStatus(result, "saved", this.t("ticketExisting", { id: ticketId ?? "—" }), link);
      else setStatus(result, "saved", this.t("ticketCreated", { id: ticketId ?? "—" }), link);
    },
  });

  // ---------------------------------------------------------------------------------------------
  // <handoff-console>: the console page. Signs in with OpenID Connect (Authorization Code + PKCE
  // S256); the access token lives in a private field only. sessionStorage holds only the PKCE
  // verifier and the state, between leaving for the issuer and coming back.
  // ---------------------------------------------------------------------------------------------
  const PKCE_KEY = "handoff-console-pkce";
  const OIDC_PARAMS = ["code", "state", "session_state", "iss", "error", "error_description", "error_uri"];

  class HandoffConsole extends HTMLElement {
    static get observedAttributes() {
      return ["api-base", "bot-id", "token", "oidc-issuer", "oidc-client-id", "oidc-scope", "lang", "theme"];
    }

    #token = null;

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.started = false;
      this.card = null;
      this.view = null;
      this.expiryTimer = null;
      this.botFromState = null;
    }

    get uiLang() { return pickLang(this.getAttribute("lang")); }
    get canSignIn() { return Boolean(this.getAttribute("oidc-issuer") && this.getAttribute("oidc-client-id")); }

    t(key, vars) {
      return translate(this.uiLang, key, vars);
    }

    get botId() {
      const claims = decodeJwt(this.#token) || {};
      return this.getAttribute("bot-id") || this.botFromState || (typeof claims.bot_id === "string" ? claims.bot_id : "");
    }

    connectedCallback() {
      if (this.started) return;
      this.started = true;
      this.start().catch((err) => this.showSignIn(this.t("signInFailed", { reason: err && err.message ? err.message : "?" })));
    }

    disconnectedCallback() {
      clearTimeout(this.expiryTimer);
    }

    attributeChangedCallback(name, old, value) {
      if (!this.started || old === value) return;
      if (name === "lang") {
        this.renderHeader();
        if (this.card) this.card.setAttribute("lang", this.uiLang);
        else if (this.view) this.view();
      } else if (name === "theme") {
        if (this.card) this.card.setAttribute("theme", value || "auto");
      } else if (name === "token" && value) {
        this.#token = value;
        this.removeAttribute("token");
        this.showCard();
      } else if (name === "api-base" || name === "bot-id") {
        if (this.#token) this.showCard();
      }
    }

    async start() {
      const given = this.getAttribute("token");
      if (given) {
        this.#token = given;
        // Not left in an attribute; the card still reaches it through its `getToken` property.
        this.removeAttribute("token");
        return this.showCard();
      }
      const params = new URLSearchParams(window.location.search);
      if (params.has("state") && (params.has("code") || params.has("error"))) return this.completeSignIn(params);
      if (this.canSignIn) return this.showSignIn(null);
      return this.showMessage("notConfigured");
    }

    // ----- Page frame --------------------------------------------------------------------------
    frame(content) {
      const root = this.shadowRoot;
      clear(root);
      this.header = h("header", {});
      this.main = h("main", {}, content);
      root.append(h("style", { text: BASE_CSS + CONSOLE_CSS }), h("div", { class: "page", lang: this.uiLang }, this.header, this.main));
      this.renderHeader();
    }

    renderHeader() {
      if (!this.header) return;
      const picker = h("select", { id: "lang-picker" },
        LANGS.map((code) => h("option", { value: code, lang: code, text: LANG_NAMES[code] })));
      picker.value = this.uiLang;
      picker.addEventListener("change", () => this.setAttribute("lang", picker.value));
      const bot = this.#token ? this.botId : this.getAttribute("bot-id");
      clear(this.header).append(
        h("h1", { text: this.t("consoleTitle") }),
        h("div", { class: "meta" },
          bot ? h("span", {}, `${this.t("bot")}: `, h("code", { id: "console-bot", text: bot })) : null,
          h("span", {}, h("label", { for: "lang-picker", text: `${this.t("language")} ` }), picker)));
      const page = this.header.parentElement;
      if (page) page.setAttribute("lang", this.uiLang);
    }

    showMessage(key) {
      this.card = null;
      this.view = () => this.showMessage(key);
      this.frame(h("div", { class: "panel" }, h("p", { role: "status", text: this.t(key) })));
    }

    // ----- Signed in ---------------------------------------------------------------------------
    showCard() {
      clearTimeout(this.expiryTimer);
      const claims = decodeJwt(this.#token) || {};
      if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return this.expire("sessionExpired");
      if (!this.botId) return this.showMessage("noBotConsole");
      const card = document.createElement("handoff-zendesk");
      card.getToken = async () => this.#token;
      const apiBase = this.getAttribute("api-base");
      if (apiBase) card.setAttribute("api-base", apiBase);
      card.setAttribute("bot-id", this.botId);
      card.setAttribute("lang", this.uiLang);
      card.setAttribute("theme", this.getAttribute("theme") || "auto");
      card.addEventListener("handoff:unauthorized", () => this.expire("unauthorized"));
      this.view = null;
      this.card = card;
      this.frame(card);
      if (typeof claims.exp === "number") {
        const wait = Math.min(claims.exp * 1000 - Date.now(), 2147483647);
        this.expiryTimer = setTimeout(() => this.expire("sessionExpired"), Math.max(wait, 0));
      }
    }

    /** Forgets the token; offers to sign in again when the console can. */
    expire(key) {
      clearTimeout(this.expiryTimer);
      this.#token = null;
      if (this.canSignIn) this.showSignIn(this.t(key === "unauthorized" ? "unauthorized" : "sessionExpired"));
      else this.showMessage(key);
    }

    // ----- Signing in --------------------------------------------------------------------------
    showSignIn(notice) {
      this.card = null;
      this.view = () => this.showSignIn(notice);
      if (!this.canSignIn) return this.frame(h("div", { class: "panel" }, h("p", { class: "error", role: "status", text: notice || this.t("notConfigured") })));
      const status = h("p", { id: "sign-in-status", class: "status", role: "status", "aria-live": "polite" });
      const button = h("button", { type: "button", id: "sign-in", text: this.t("signIn") });
      button.addEventListener("click", () => {
        button.disabled = true;
        setStatus(status, null, this.t("signingIn"));
        this.signIn().catch((err) => {
          button.disabled = false;
          setStatus(status, "error", this.t("signInFailed", { reason: err && err.message ? err.message : "?" }));
        });
      });
      this.frame(h("div", { class: "panel" },
        notice ? h("p", { class: "banner warn", id: "sign-in-notice", text: notice }) : null,
        h("p", { text: this.t("signInIntro") }), button, status));
    }

    redirectUri() {
      return window.location.origin + window.location.pathname;
    }

    async discover() {
      const issuer = this.getAttribute("oidc-issuer").replace(/\/+$/, "");
      const response = await fetch(`${issuer}/.well-known/openid-configuration`, {
        headers: { Accept: "application/json" }, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
      });
      if (!response.ok) throw new Error(`openid-configuration: HTTP ${response.status}`);
      const config = await response.json();
      // The issuer must be the one configured (RFC 8414), or another could answer in its name.
      if (String(config.issuer || "").replace(/\/+$/, "") !== issuer) throw new Error("openid-configuration: another issuer");
      if (!isHttpsUrl(config.authorization_endpoint) || !isHttpsUrl(config.token_endpoint)) {
        throw new Error("openid-configuration: no HTTPS endpoints");
      }
      return config;
    }

    async signIn() {
      if (!window.crypto || !window.crypto.subtle) throw new Error("HTTPS");
      const config = await this.discover();
      const verifier = randomString(48);
      const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
      // The bot asked for rides along in the state, as the redirect URI carries no query.
      const bot = this.getAttribute("bot-id");
      const state = randomString(24) + (bot ? `.${bot}` : "");
      sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
      const url = new URL(config.authorization_endpoint);
      const query = {
        response_type: "code", client_id: this.getAttribute("oidc-client-id"), redirect_uri: this.redirectUri(),
        scope: this.getAttribute("oidc-scope") || "openid", state, code_challenge: challenge, code_challenge_method: "S256",
      };
      for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
      window.location.assign(url.toString());
    }

    async completeSignIn(params) {
      const code = params.get("code");
      const state = params.get("state") || "";
      const error = params.get("error");
      const dot = state.indexOf(".");
      this.botFromState = dot > 0 ? state.slice(dot + 1) : null;
      // The code leaves the address bar at once.
      const clean = new URL(window.location.href);
      OIDC_PARAMS.forEach((key) => clean.searchParams.delete(key));
      if (this.botFromState && !clean.searchParams.has("bot")) clean.searchParams.set("bot", this.botFromState);
      window.history.replaceState(window.history.state, "", clean.pathname + clean.search + clean.hash);
      let stored = null;
      try {
        stored = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
      } catch (_) {
        stored = null;
      }
      sessionStorage.removeItem(PKCE_KEY);
      // Only an error code is shown: a description in the address could be anyone's words.
      if (error) return this.showSignIn(this.t("signInFailed", { reason: /^[a-z_]{1,40}$/.test(error) ? error : "error" }));
      const issuer = this.getAttribute("oidc-issuer").replace(/\/+$/, "");
      const answeredBy = params.get("iss");
      if (answeredBy !== null && answeredBy.replace(/\/+$/, "") !== issuer) {
        return this.showSignIn(this.t("signInFailed", { reason: this.t("stateMismatch") }));
      }
      if (!stored || !code || stored.state !== state) return this.showSignIn(this.t("signInFailed", { reason: this.t("stateMismatch") }));
      this.showMessage("signingIn");
      try {
        const config = await this.discover();
        const response = await fetch(config.token_endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
          body: new URLSearchParams({
            grant_type: "authorization_code", code, redirect_uri: this.redirectUri(),
            client_id: this.getAttribute("oidc-client-id"), code_verifier: stored.verifier,
          }).toString(),
          credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
        });
        const body = await response.json().catch(() => null);
        if (!response.ok || !body || typeof body.access_token !== "string") {
          throw new Error((body && (body.error_description || body.error)) || `HTTP ${response.status}`);
        }
        this.#token = body.access_token;
        this.showCard();
      } catch (err) {
        this.showSignIn(this.t("signInFailed", { reason: err && err.message ? err.message : "?" }));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // <handoff-oauth-done>: where the OAuth popup lands (?zendesk=connected | ?zendesk=error&reason=…).
  // Tells the card that opened it (the message carries nothing secret), then closes.
  // ---------------------------------------------------------------------------------------------
  class HandoffOAuthDone extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.done = false;
    }

    connectedCallback() {
      if (this.done) return;
      this.done = true;
      const lang = pickLang(this.getAttribute("lang"));
      const t = (key, vars) => translate(lang, key, vars);
      const params = new URLSearchParams(window.location.search);
      const value = params.get("zendesk");
      const outcome = value === "connected" ? "connected" : value === "error" ? "error" : null;
      // Handoff's reasons are codes (`access_denied`, `not_agent`); other words in a crafted link are not shown.
      const given = outcome === "error" ? params.get("reason") || "" : "";
      const reason = /^[a-z0-9_]{1,60}$/.test(given) ? given : outcome === "error" ? "error" : null;
      const opener = window.opener && !window.opener.closed ? window.opener : null;
      const icon = outcome === "connected" ? "✓ " : outcome === "error" ? "✗ " : "";
      const title = outcome === "connected" ? "doneConnected" : outcome === "error" ? "doneError" : "doneUnknown";
      this.shadowRoot.append(
        h("style", { text: BASE_CSS + CONSOLE_CSS }),
        h("div", { class: "panel", lang, role: "status", "data-outcome": outcome || "unknown" },
          h("h1", {}, h("span", { "aria-hidden": "true", text: icon }), t(title)),
          reason ? h("p", { id: "reason", text: t("doneReason", { reason }) }) : null,
          h("p", { class: "muted", text: t("doneClose") })));
      if (outcome && opener) {
        // Told only to the pages allowed to embed the card (and Handoff's own console): the
        // page that opened this one may be anyone's.
        const origins = [window.location.origin].concat((this.getAttribute("origins") || "").split(/\s+/).filter(Boolean));
        for (const origin of origins) {
          try {
            opener.postMessage({ type: OAUTH_MESSAGE, outcome, reason }, origin);
          } catch (_) { /* the opener went away, or the origin is not one: nothing to tell */ }
        }
        setTimeout(() => window.close(), 1000);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Definitions
  // ---------------------------------------------------------------------------------------------
  const define = (name, constructor) => {
    if (!window.customElements.get(name)) window.customElements.define(name, constructor);
  };
  define("handoff-zendesk", HandoffZendesk);
  define("handoff-oauth-done", HandoffOAuthDone);
  define("handoff-console", HandoffConsole);
})();

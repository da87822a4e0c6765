"""Words for the demo data set: names, organisations, support groups and ticket conversations in
French and English. Pure data, no ORM; ``palier.demo.tickets`` draws from it."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = {
    "fr": _words(
        "Camille Léa Manon Chloé Inès Sarah Julie Émilie Claire Anaïs Mathilde Océane Pauline Margaux "
        "Élodie Hélène Nathalie Sophie Aurélie Lucas Hugo Théo Louis Nathan Julien Antoine Maxime "
        "Nicolas Thomas Guillaume Romain Pierre François Sébastien Jérôme Olivier Benoît Cédric Étienne "
        "Raphaël"
    ),
    "en": _words(
        "Olivia Emma Amelia Isla Ava Grace Sophie Emily Hannah Charlotte Lucy Megan Rachel Laura Jessica "
        "Rebecca Katie Eleanor Abigail Oliver George Harry Jack Jacob Noah Charlie Thomas James William "
        "Daniel Samuel Joseph David Matthew Andrew Michael Edward Ryan Liam Owen"
    ),
}

LAST_NAMES = {
    "fr": _words(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre "
        "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre Mercier Dupont "
        "Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry "
        "Roussel Nicolas"
    ),
    "en": _words(
        "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
        "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner "
        "Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen"
    ),
}

# (name, email domain, language of most members, members see each other's tickets, departments)
ORGANISATIONS = [
    (
        "Mairie de Villeneuve",
        "villeneuve.example",
        "fr",
        True,
        ["État civil", "Urbanisme", "Services techniques", "Ressources humaines", "Finances"],
    ),
    (
        "Clinique Saint-Roch",
        "saint-roch.example",
        "fr",
        False,
        ["Accueil", "Radiologie", "Bloc opératoire", "Pharmacie", "Direction"],
    ),
    ("Atelier Moreau & Fils", "moreau-fils.example", "fr", True, ["Production", "Bureau d'études", "Logistique"]),
    (
        "Lycée Jean-Moulin",
        "lycee-jean-moulin.example",
        "fr",
        False,
        ["Vie scolaire", "Enseignants", "Intendance", "CDI"],
    ),
    (
        "Northwind Logistics",
        "northwind.example",
        "en",
        False,
        ["Warehouse", "Dispatch", "Finance", "Customer service", "IT"],
    ),
    ("Harbour Bank", "harbour-bank.example", "en", False, ["Retail banking", "Compliance", "Treasury", "Risk"]),
    ("Greenfield Architects", "greenfield.example", "en", True, ["Design", "Projects", "Administration"]),
]

# (name, level, external vendor, agents, top-level categories it works on)
GROUPS = [
    ("Service desk", 1, False, 12, []),
    ("Support de proximité", 1, False, 8, ["hardware", "telephony", "cabling"]),
    ("Réseau", 2, False, 7, ["network", "cabling"]),
    ("Poste de travail", 2, False, 7, ["hardware", "maintenance", "telephony", "software"]),
    ("Applications", 2, False, 7, ["applications", "accounts", "software"]),
    ("Infrastructure", 3, False, 4, ["servers", "cloud", "backups", "security"]),
    ("Bases de données", 3, False, 3, ["databases"]),
    ("Infogérance Nexalis", 4, True, 2, ["servers", "cloud", "network"]),
]

# Ticket subjects by top-level category slug.
SUBJECTS = {
    "hardware": {
        "fr": [
            "Ordinateur portable qui ne démarre plus",
            "Écran qui clignote",
            "Imprimante en panne",
            "Clavier défectueux",
            "Demande de second écran",
            "Remplacement de la batterie du portable",
            "Le scanner ne détecte plus les documents",
            "Station d'accueil non reconnue",
        ],
        "en": [
            "Laptop will not boot",
            "Flickering monitor",
            "Printer out of order",
            "Broken keyboard",
            "Request for a second screen",
            "Laptop battery replacement",
            "Scanner no longer detects pages",
            "Docking station not recognised",
        ],
    },
    "software": {
        "fr": [
            "Installation de Visio",
            "Licence Adobe expirée",
            "Excel plante à l'ouverture",
            "Mise à jour de Teams impossible",
            "Demande d'installation de QGIS",
            "Outlook se fige",
        ],
        "en": [
            "Install Visio",
            "Adobe licence expired",
            "Excel crashes on start",
            "Cannot update Teams",
            "Please install QGIS",
            "Outlook freezes",
        ],
    },
    "network": {
        "fr": [
            "Wi-Fi instable en salle de réunion",
            "Impossible de se connecter au VPN",
            "Réseau très lent",
            "Prise réseau inactive",
            "Accès invité Wi-Fi pour un visiteur",
            "Coupure réseau à l'étage",
        ],
        "en": [
            "Unstable Wi-Fi in the meeting room",
            "Cannot connect to the VPN",
            "Network very slow",
            "Dead network socket",
            "Guest Wi-Fi access for a visitor",
            "Network outage on the floor",
        ],
    },
    "telephony": {
        "fr": [
            "Téléphone mobile cassé",
            "Ligne fixe sans tonalité",
            "Messagerie vocale inaccessible",
            "Demande de nouveau smartphone",
            "Softphone qui coupe les appels",
        ],
        "en": [
            "Broken mobile phone",
            "No dial tone on desk phone",
            "Cannot reach voicemail",
            "New smartphone request",
            "Softphone drops calls",
        ],
    },
    "applications": {
        "fr": [
            "Messagerie : pièces jointes bloquées",
            "Agenda partagé non synchronisé",
            "Erreur dans le logiciel de paie",
            "SharePoint inaccessible",
            "Application métier très lente",
            "Boîte aux lettres pleine",
        ],
        "en": [
            "Email: attachments blocked",
            "Shared calendar not syncing",
            "Error in the payroll software",
            "SharePoint unreachable",
            "Business application very slow",
            "Mailbox full",
        ],
    },
    "accounts": {
        "fr": [
            "Mot de passe expiré",
            "Compte verrouillé",
            "Création de compte pour un nouvel arrivant",
            "Accès au dossier partagé Finances",
            "Demande de droits administrateur",
            "Départ d'un collaborateur : désactivation du compte",
        ],
        "en": [
            "Password expired",
            "Account locked out",
            "Account for a new starter",
            "Access to the Finance shared folder",
            "Admin rights request",
            "Leaver: disable account",
        ],
    },
    "maintenance": {
        "fr": [
            "Poste très lent au démarrage",
            "Mises à jour Windows bloquées",
            "Disque dur presque plein",
            "Ventilateur bruyant",
        ],
        "en": ["Computer slow to start", "Windows updates stuck", "Hard drive almost full", "Noisy fan"],
    },
    "servers": {
        "fr": [
            "Serveur de fichiers inaccessible",
            "Alerte espace disque sur le serveur",
            "Redémarrage du serveur d'impression",
            "Certificat expiré sur l'intranet",
        ],
        "en": [
            "File server unreachable",
            "Disk space alert on server",
            "Restart the print server",
            "Expired certificate on the intranet",
        ],
    },
    "databases": {
        "fr": [
            "Base de données de production lente",
            "Échec de la sauvegarde de la base",
            "Demande d'accès en lecture à la base",
        ],
        "en": ["Production database slow", "Database backup failed", "Read access to the database"],
    },
    "security": {
        "fr": [
            "Courriel d'hameçonnage reçu",
            "Alerte antivirus sur mon poste",
            "Clé USB perdue",
            "Activité suspecte sur mon compte",
        ],
        "en": [
            "Phishing email received",
            "Antivirus alert on my computer",
            "Lost USB stick",
            "Suspicious activity on my account",
        ],
    },
    "cabling": {
        "fr": ["Câble réseau endommagé", "Brassage pour un nouveau bureau"],
        "en": ["Damaged network cable", "Patching for a new desk"],
    },
    "backups": {
        "fr": ["Restauration d'un fichier supprimé", "Sauvegarde du poste en échec"],
        "en": ["Restore a deleted file", "Laptop backup failing"],
    },
    "cloud": {
        "fr": ["Machine virtuelle à créer", "Stockage cloud saturé"],
        "en": ["New virtual machine needed", "Cloud storage full"],
    },
}
GENERIC_SUBJECTS = {"fr": ["Demande d'assistance", "Problème informatique"], "en": ["Help needed", "IT problem"]}

PLACES = {
    "fr": [
        "bâtiment A",
        "bâtiment B",
        "2e étage",
        "salle Jaurès",
        "accueil",
        "site de Lyon",
        "agence de Nantes",
        "open space",
        "direction",
    ],
    "en": [
        "building A",
        "building B",
        "2nd floor",
        "Thames room",
        "reception",
        "Leeds office",
        "Bristol branch",
        "open space",
        "head office",
    ],
}

DESCRIPTIONS = {
    "fr": [
        "Depuis ce matin, le problème revient à chaque fois que j'essaie de travailler.",
        "J'ai déjà redémarré le poste mais rien ne change.",
        "Plusieurs collègues du service ont le même souci.",
        "C'est bloquant pour la clôture de fin de mois, merci de traiter rapidement.",
        "Le message d'erreur indique « accès refusé ».",
        "Cela fonctionnait encore hier soir.",
        "Pouvez-vous intervenir avant jeudi ? J'ai une réunion importante.",
        "Je joins une capture d'écran dès que possible.",
    ],
    "en": [
        "Since this morning the problem comes back every time I try to work.",
        "I have already restarted the computer but nothing changes.",
        "Several colleagues in my team have the same issue.",
        "This is blocking the month-end close, please handle it quickly.",
        'The error message says "access denied".',
        "It was still working last night.",
        "Could you look at it before Thursday? I have an important meeting.",
        "I will send a screenshot as soon as I can.",
    ],
}
GREETINGS = {"fr": ["Bonjour,", "Bonjour à tous,", "Bonjour l'équipe support,"], "en": ["Hello,", "Hi,", "Dear IT,"]}
SIGN_OFFS = {
    "fr": ["Merci d'avance.", "Cordialement.", "Bonne journée."],
    "en": ["Thanks in advance.", "Regards.", "Many thanks."],
}

# Conversation lines by moment; {{}} are not used: the texts stay fixed so they normalise once.
REPLIES = {
    "requester_followup": {
        "fr": [
            "Le problème persiste ce matin.",
            "Avez-vous du nouveau ?",
            "Je suis disponible cet après-midi.",
            "Un collègue vient d'avoir la même erreur.",
            "Merci de me tenir informé.",
        ],
        "en": [
            "The problem is still there this morning.",
            "Any news?",
            "I am available this afternoon.",
            "A colleague just got the same error.",
            "Please keep me posted.",
        ],
    },
    "agent_ack": {
        "fr": [
            "Bonjour, nous avons bien reçu votre demande et la prenons en charge.",
            "Bonjour, je m'occupe de votre ticket et reviens vers vous rapidement.",
            "Merci pour votre message, un technicien passera dans la journée.",
        ],
        "en": [
            "Hello, we have received your request and are working on it.",
            "Hi, I am taking care of your ticket and will get back to you shortly.",
            "Thanks for your message, a technician will come by today.",
        ],
    },
    "agent_question": {
        "fr": [
            "Pouvez-vous nous indiquer le numéro d'inventaire du poste ?",
            "Pouvez-vous nous envoyer une capture d'écran du message d'erreur ?",
            "Quand êtes-vous disponible pour une prise en main à distance ?",
        ],
        "en": [
            "Could you tell us the asset number of the computer?",
            "Could you send us a screenshot of the error message?",
            "When are you available for a remote session?",
        ],
    },
    "requester_answer": {
        "fr": ["Voici les informations demandées.", "Je suis disponible demain matin.", "C'est le poste PC-2231."],
        "en": ["Here is the information you asked for.", "I am free tomorrow morning.", "It is computer PC-2231."],
    },
    "agent_vendor": {
        "fr": [
            "Nous avons transmis le dossier à notre prestataire, nous attendons son retour.",
            "Le fournisseur doit remplacer la pièce, nous revenons vers vous dès sa réponse.",
        ],
        "en": [
            "We have passed the case to our supplier and are waiting for their answer.",
            "The vendor has to replace the part; we will update you as soon as they reply.",
        ],
    },
    "agent_change": {
        "fr": ["La correction nécessite un changement planifié lors de la prochaine fenêtre de maintenance."],
        "en": ["The fix needs a planned change during the next maintenance window."],
    },
    "agent_resolved": {
        "fr": [
            "Le problème est résolu, pouvez-vous confirmer de votre côté ?",
            "Nous avons remplacé le matériel, tout fonctionne à nouveau.",
            "Votre accès est maintenant actif.",
            "La mise à jour a été appliquée, le service est rétabli.",
        ],
        "en": [
            "The issue is fixed, could you confirm on your side?",
            "We replaced the hardware, everything works again.",
            "Your access is now active.",
            "The update has been applied and the service is back.",
        ],
    },
    "requester_thanks": {
        "fr": ["Merci beaucoup, tout fonctionne.", "Parfait, merci pour votre réactivité !"],
        "en": ["Thank you, everything works.", "Perfect, thanks for the quick fix!"],
    },
    "requester_cancel": {
        "fr": ["Le problème s'est résolu tout seul, vous pouvez annuler la demande."],
        "en": ["The problem went away by itself, you can cancel the request."],
    },
}
NOTES = {
    "fr": [
        "Vérifié dans l'AD : compte actif, mot de passe expiré.",
        "Redémarrage du service effectué, à surveiller.",
        "Escaladé au niveau 2 après diagnostic.",
        "Pièce commandée, délai annoncé 3 jours.",
        "Même symptôme que sur un ticket de la semaine dernière.",
        "Journal d'événements joint au dossier.",
    ],
    "en": [
        "Checked in AD: account active, password expired.",
        "Service restarted, keep an eye on it.",
        "Escalated to level 2 after diagnosis.",
        "Part ordered, 3 days lead time.",
        "Same symptom as a ticket from last week.",
        "Event log attached to the case.",
    ],
}

# Comments requesters leave with their satisfaction score, good (4-5) or not (1-3).
SURVEY_COMMENTS = {
    "good": {
        "fr": [
            "Très réactif, merci !",
            "Problème réglé rapidement, rien à redire.",
            "Technicien patient et clair dans ses explications.",
            "Parfait, tout fonctionne de nouveau.",
            "Merci pour le suivi, c'était efficace.",
        ],
        "en": [
            "Very quick, thank you!",
            "Fixed fast, nothing to add.",
            "Patient and clear explanations.",
            "Perfect, everything works again.",
            "Thanks for the follow-up, it was efficient.",
        ],
    },
    "bad": {
        "fr": [
            "Trop long avant d'avoir une première réponse.",
            "Le problème est revenu le lendemain.",
            "J'ai dû relancer plusieurs fois.",
            "Solution de contournement seulement, pas de vraie correction.",
        ],
        "en": [
            "It took too long to get a first answer.",
            "The problem came back the next day.",
            "I had to chase it several times.",
            "Only a workaround, not a real fix.",
        ],
    },
}
